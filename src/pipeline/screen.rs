//! Step 1, screen: what a client may cost the gateway, checked before anything else looks at
//! a request (`limits:` in `routes.yaml`, `docs/reference.md#limits`).
//!
//! pingora 0.9 already refuses, with a bare `400`, request heads over 1 MiB or with more than 256
//! fields, duplicate or differing `Content-Length`s, a non-chunked final `Transfer-Encoding`,
//! several `Host` fields, userinfo, and an absolute-form target whose authority differs from
//! `Host`. It *accepts* a request carrying both `Content-Length` and `Transfer-Encoding` (it drops
//! the length and reads chunks) and accepts HTTP/1.1 without `Host`. This step refuses those
//! (RFC 9112 §3.2 and §6.1) with `400 bad_request`, and a head or `Cookie` over the configured
//! size with `431` (clearing the session's chunks when the cookies are too large). The time
//! limits live with the listener (`proxy::limits`).

use super::{Flow, RequestState};
use crate::config::LimitsConfig;
use crate::http::{ErrorCode, Reply, RequestView};
use std::ops::ControlFlow;

/// Refuses a request that breaks a limit. The answer closes the connection, since an unread
/// body cannot be told apart from the next request.
pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    let loaded = &state.loaded;
    let Err(refusal) = check_head(req, &loaded.config.limits) else {
        return ControlFlow::Continue(());
    };
    tracing::debug!(?refusal, "request refused before routing");
    let mut reply = refusal.reply();
    if refusal == Refusal::CookieTooLarge {
        // The browser sends the same cookies with every request: without this it would get a
        // 431 for ever. Clearing the session's own chunks is the part the gateway can undo.
        let chunks = loaded.cookies.present(req.headers);
        if !chunks.is_empty() {
            reply = reply.with_cookies(loaded.cookies.clear(&chunks));
        }
    }
    state.close = true;
    ControlFlow::Break(reply)
}

/// Why a request was refused before routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Both `Content-Length` and `Transfer-Encoding`: two servers may frame the body differently,
    /// which is how requests are smuggled (RFC 9112 §6.1 allows refusing it; we do).
    ConflictingFraming,
    /// HTTP/1.1 without `Host` (RFC 9112 §3.2: `400`).
    MissingHost,
    /// A `Host` that is not `host[:port]` (RFC 9112 §3.2: `400`).
    InvalidHost,
    /// The request line and headers exceed `limits.max_header_bytes`.
    HeaderTooLarge,
    /// The `Cookie` headers exceed `limits.max_cookie_bytes`.
    CookieTooLarge,
}

impl Refusal {
    /// The answer: `400 {"error":"bad_request","detail":..}` or
    /// `431 {"error":"request_header_fields_too_large"}` (RFC 6585 §5).
    pub fn reply(self) -> Reply {
        let bad = |detail: &str| Reply::error_detail(400, ErrorCode::BadRequest, detail);
        match self {
            Refusal::ConflictingFraming => bad("conflicting_framing"),
            Refusal::MissingHost => bad("missing_host"),
            Refusal::InvalidHost => bad("invalid_host"),
            Refusal::HeaderTooLarge | Refusal::CookieTooLarge => {
                Reply::error(431, ErrorCode::RequestHeaderFieldsTooLarge)
            }
        }
    }
}

/// Checks a request head. Its raw form (HTTP/1) is needed because pingora removes
/// `Content-Length` from the parsed header when `Transfer-Encoding` is present.
pub fn check_head(req: &RequestView<'_>, limits: &LimitsConfig) -> Result<(), Refusal> {
    let raw_head = req.raw_head.as_deref();
    // Only a request with `Transfer-Encoding` can have lost its `Content-Length`, so only then
    // is the raw head (kilobytes of cookies, on every authenticated request) scanned.
    let chunked = req.headers.contains_key(http::header::TRANSFER_ENCODING);
    if chunked && raw_head.is_some_and(has_conflicting_framing) {
        return Err(Refusal::ConflictingFraming);
    }
    match req.headers.get(http::header::HOST) {
        None if req.version == http::Version::HTTP_11 => return Err(Refusal::MissingHost),
        Some(host) if !is_valid_host(host.as_bytes()) => return Err(Refusal::InvalidHost),
        _ => {}
    }
    let head_bytes = raw_head.map_or_else(|| parsed_head_len(req), <[u8]>::len);
    if head_bytes > limits.max_header_bytes {
        return Err(Refusal::HeaderTooLarge);
    }
    if cookie_bytes(req.headers) > limits.max_cookie_bytes {
        return Err(Refusal::CookieTooLarge);
    }
    Ok(())
}

/// True when the header section names both `Content-Length` and `Transfer-Encoding`.
pub fn has_conflicting_framing(raw_head: &[u8]) -> bool {
    let (mut length, mut encoding) = (false, false);
    // The first line is the request line; a field line is `name:value` (no space before `:`).
    for line in raw_head.split(|&b| b == b'\n').skip(1) {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        length |= name.eq_ignore_ascii_case(b"content-length");
        encoding |= name.eq_ignore_ascii_case(b"transfer-encoding");
    }
    length && encoding
}

/// `uri-host [ ":" port ]` without userinfo, as `http` parses an authority, with a numeric port.
pub fn is_valid_host(host: &[u8]) -> bool {
    let Ok(authority) = http::uri::Authority::try_from(host) else {
        return false;
    };
    let text = authority.as_str();
    // The part after an IPv6 literal's `]`, or the whole value: a `:` there starts the port.
    let after_literal = text.rsplit_once(']').map_or(text, |(_, rest)| rest);
    !text.is_empty()
        && !text.contains('@')
        && (!after_literal.contains(':') || authority.port_u16().is_some())
}

/// The size of a head rebuilt from its parsed form (HTTP/2 has no raw head): request line,
/// then `name: value\r\n` for every field.
pub fn parsed_head_len(req: &RequestView<'_>) -> usize {
    let line = req.method.as_str().len() + req.target_len + " HTTP/1.1\r\n".len() + 1;
    req.headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .fold(line, usize::saturating_add)
}

/// All `Cookie` values together (HTTP/2 may split them into many fields).
pub fn cookie_bytes(headers: &http::HeaderMap) -> usize {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(|v| v.len())
        .fold(0, usize::saturating_add)
}

#[cfg(test)]
mod tests;
