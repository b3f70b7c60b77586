//! Step 1, screen: what a client may cost the gateway, and what two servers could frame
//! differently, checked before anything else looks at a request (`limits:` in `routes.yaml`,
//! `docs/reference.md#limits`, `docs/reference.md#proxying-a-request`).
//!
//! pingora 0.9 already refuses, with a bare `400`, request heads over 1 MiB or with more than 256
//! fields, differing `Content-Length`s, a non-chunked final `Transfer-Encoding`, several `Host`
//! fields, userinfo, and an absolute-form target whose authority differs from `Host`. It
//! *accepts* a request carrying both `Content-Length` and `Transfer-Encoding` (it drops the
//! length and reads chunks; pingora issue #945), a `Content-Length` list of equal values or the
//! same `Content-Length` twice (reconciled as RFC 9110 §8.6 allows, but forwarded as sent;
//! pingora issue #309), bare LF line endings (`httparse` accepts them), a request target with
//! control characters or spaces (percent-encoded, then forwarded), and HTTP/1.1 without `Host`.
//! The framing tap (`proxy::tap`, rules in `http::framing`) sees the head as received, before
//! pingora rewrote it; this step refuses what it found (RFC 9112 §2.2, §3.2, §6.1, §6.3, and a
//! chunked body's first lines read with the head, §7.1) with `400 bad_request`, HTTP/1.1 without
//! a valid `Host` (§3.2) too, and a head or `Cookie` over the configured size with `431`
//! (clearing the session's chunks when the cookies are too large). The time limits live with
//! the listener (`proxy::limits`).

use super::{Flow, RequestState};
use crate::config::LimitsConfig;
use crate::http::framing::{head, Violation};
use crate::http::{ErrorCode, Reply, RequestView};
use crate::metrics::Metrics;
use std::ops::ControlFlow;

/// Refuses a request that breaks a limit. The answer closes the connection, since an unread
/// body cannot be told apart from the next request.
pub fn step(metrics: &Metrics, req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    let loaded = &state.loaded;
    let Err(refusal) = check_head(req, &loaded.config.limits) else {
        return ControlFlow::Continue(());
    };
    tracing::debug!(?refusal, "request refused before routing");
    metrics.refused.with_label_values(&[refusal.reason()]).inc();
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
    /// Framing two servers may read differently, which is how requests are smuggled: both
    /// `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.1 allows refusing it; we do), a
    /// `Content-Length` list, a bare LF, a target with control characters, a bad chunk line.
    Framing(Violation),
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
    /// The label of `tokengate_requests_refused_total`: the answer's `detail`, or its error.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Framing(violation) => violation.detail(),
            Refusal::MissingHost => "missing_host",
            Refusal::InvalidHost => "invalid_host",
            Refusal::HeaderTooLarge => "header_too_large",
            Refusal::CookieTooLarge => "cookie_too_large",
        }
    }

    /// The answer: `400 {"error":"bad_request","detail":..}` or
    /// `431 {"error":"request_header_fields_too_large"}` (RFC 6585 §5).
    pub fn reply(self) -> Reply {
        match self {
            Refusal::Framing(_) | Refusal::MissingHost | Refusal::InvalidHost => {
                Reply::error_detail(400, ErrorCode::BadRequest, self.reason())
            }
            Refusal::HeaderTooLarge | Refusal::CookieTooLarge => {
                Reply::error(431, ErrorCode::RequestHeaderFieldsTooLarge)
            }
        }
    }
}

/// Checks a request head: what the framing tap found in it, then `Content-Length`, `Host` and
/// the sizes.
pub fn check_head(req: &RequestView<'_>, limits: &LimitsConfig) -> Result<(), Refusal> {
    let raw_head = req.raw_head.as_deref();
    if let Some(violation) = req.framing.or_else(|| untapped_framing(req)) {
        return Err(Refusal::Framing(violation));
    }
    if !single_content_length(req.headers) {
        return Err(Refusal::Framing(Violation::InvalidContentLength));
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

/// The framing of a raw head the tap did not judge (a listener without one): pingora removes
/// `Content-Length` from the parsed header when `Transfer-Encoding` is present, so only then is
/// the raw head (kilobytes of cookies, on every authenticated request) read again.
fn untapped_framing(req: &RequestView<'_>) -> Option<Violation> {
    let raw = req.raw_head.as_deref()?;
    if !req.headers.contains_key(http::header::TRANSFER_ENCODING) {
        return None;
    }
    head::check(raw).err()
}

/// At most one `Content-Length` field, holding one value (HTTP/2 too: its framing is its own,
/// but an HTTP/1 upstream reads the field pingora passes on).
pub fn single_content_length(headers: &http::HeaderMap) -> bool {
    let mut values = headers.get_all(http::header::CONTENT_LENGTH).iter();
    match (values.next(), values.next()) {
        (None, _) => true,
        (Some(v), None) => !v.as_bytes().contains(&b','),
        _ => false,
    }
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
