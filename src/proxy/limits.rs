//! What a client or an upstream may cost the gateway, enforced before anything else looks at a
//! request (`limits:` in `routes.yaml`).
//!
//! pingora 0.9 already refuses, with a bare `400`, request heads over 1 MiB or with more than 256
//! fields, duplicate or differing `Content-Length`s, a non-chunked final `Transfer-Encoding`,
//! several `Host` fields, userinfo, and an absolute-form target whose authority differs from
//! `Host`. It *accepts* a request carrying both `Content-Length` and `Transfer-Encoding` (it drops
//! the length and reads chunks), accepts HTTP/1.1 without `Host`, bounds the wait for a header
//! only per read (so a client sending one byte a minute holds a connection for ever), and waits
//! for an idle keep-alive connection's next request without any limit. This module closes those
//! gaps:
//!
//! * [`screen`], the first call of `request_filter`: `400 bad_request` for framing and `Host`
//!   problems (RFC 9112 §3.2 and §6.1), `431` for a head or `Cookie` over the configured size
//!   (clearing the session's chunks when the cookies are too large), and the body read timeout.
//! * [`proxy_service`]: the proxy service behind a *total* deadline for each request header,
//!   which also ends idle keep-alive connections.
//! * [`upstream_timeouts`]: connect, read and write timeouts on every upstream peer.

use crate::app::{App, Loaded};
use crate::config::LimitsConfig;
use crate::http::{ErrorCode, Reply};
use crate::proxy::TokenGate;
use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::http::RequestHeader;
use pingora::protocols::http::ServerSession;
use pingora::proxy::{HttpProxy, Session};
use pingora::server::configuration::ServerConf;
use pingora::server::ShutdownWatch;
use pingora::services::listening::Service;
use pingora::upstreams::peer::PeerOptions;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

/// Checks a request head. `raw_head` is the head as received (HTTP/1), needed because pingora
/// removes `Content-Length` from the parsed header when `Transfer-Encoding` is present.
pub fn check_head(
    req: &RequestHeader,
    raw_head: Option<&[u8]>,
    limits: &LimitsConfig,
) -> Result<(), Refusal> {
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
    if cookie_bytes(&req.headers) > limits.max_cookie_bytes {
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
pub fn parsed_head_len(req: &RequestHeader) -> usize {
    let line = req.method.as_str().len() + req.raw_path().len() + " HTTP/1.1\r\n".len() + 1;
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

/// The first step of `request_filter`: ends the header deadline, applies the body timeout, and
/// refuses a request that breaks a limit. `Some` is the whole answer; the connection is then
/// closed, since an unread body cannot be told apart from the next request.
pub fn screen(session: &mut Session, loaded: &Loaded) -> Option<Reply> {
    let limits = &loaded.config.limits;
    header_complete();
    session.set_read_timeout(Some(limits.client_body_timeout));
    let raw = session
        .as_downstream()
        .as_http1()
        .map(|h1| h1.get_headers_raw_bytes());
    let req = session.req_header();
    let refusal = check_head(req, raw.as_deref(), limits).err()?;
    tracing::debug!(?refusal, "request refused before routing");
    let mut reply = refusal.reply();
    if refusal == Refusal::CookieTooLarge {
        // The browser sends the same cookies with every request: without this it would get a
        // 431 for ever. Clearing the session's own chunks is the part the gateway can undo.
        let chunks = loaded.cookies.present(&req.headers);
        if !chunks.is_empty() {
            reply = reply.with_cookies(loaded.cookies.clear(&chunks));
        }
    }
    session.set_keepalive(None);
    Some(reply)
}

/// Connect (TCP and TLS), read and write timeouts for one upstream peer. pingora's defaults are
/// none at all: a black-holed upstream would hold the request for ever.
pub fn upstream_timeouts(options: &mut PeerOptions, limits: &LimitsConfig) {
    options.connection_timeout = Some(limits.upstream_connect_timeout);
    options.total_connection_timeout = Some(limits.upstream_connect_timeout);
    options.read_timeout = Some(limits.upstream_read_timeout);
    options.write_timeout = Some(limits.upstream_read_timeout);
}

tokio::task_local! {
    /// Set by [`screen`] when the request header is complete; read by [`HeaderDeadline`].
    static HEADER_DONE: Arc<AtomicBool>;
}

fn header_complete() {
    let _ = HEADER_DONE.try_with(|done| done.store(true, Ordering::Release));
}

/// The proxy service for `gate`, with [`HeaderDeadline`] around it.
pub fn proxy_service(
    conf: &Arc<ServerConf>,
    gate: TokenGate,
) -> Service<HeaderDeadline<HttpProxy<TokenGate>>> {
    let app = gate.app.clone();
    let proxy = pingora::proxy::http_proxy(conf, gate);
    Service::new(
        "tokengate proxy".to_owned(),
        HeaderDeadline {
            inner: Arc::new(proxy),
            app,
        },
    )
}

/// Wraps pingora's HTTP application so that each request header must be complete within
/// `limits.client_header_timeout` of the connection opening (or of the previous request on a
/// kept-alive connection). The header is complete when `request_filter` starts, which the wrapped
/// application signals through a task-local flag; until then the wait is raced against the
/// deadline and, when the deadline wins, the connection is dropped without an answer.
pub struct HeaderDeadline<A> {
    inner: Arc<A>,
    app: Arc<App>,
}

#[async_trait]
impl<A> HttpServerApp for HeaderDeadline<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new_http(
        self: &Arc<Self>,
        session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        let deadline = self.app.current.load().config.limits.client_header_timeout;
        let done = Arc::new(AtomicBool::new(false));
        let request =
            HEADER_DONE.scope(done.clone(), self.inner.process_new_http(session, shutdown));
        tokio::pin!(request);
        tokio::select! {
            reused = &mut request => return reused,
            () = tokio::time::sleep(deadline) => {}
        }
        if done.load(Ordering::Acquire) {
            return request.await;
        }
        tracing::debug!(?deadline, "client header timeout: connection closed");
        None
    }

    fn h2_options(&self) -> Option<pingora::protocols::http::v2::server::H2Options> {
        self.inner.h2_options()
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        self.inner.server_options()
    }

    async fn http_cleanup(&self) {
        self.inner.http_cleanup().await
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
