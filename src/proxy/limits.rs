//! The time limits of the listener (`limits:` in `routes.yaml`, `docs/reference.md#limits`).
//! The checks of a request head are the pipeline's `screen` step; what needs pingora is here:
//!
//! * [`header_received`], the first call of `request_filter`: the header deadline ends and the
//!   body read timeout starts.
//! * [`proxy_service`]: the proxy service behind a *total* deadline for each request header,
//!   which also ends idle keep-alive connections (pingora bounds the wait for a header only per
//!   read, so a client sending one byte a minute would hold a connection for ever, and it waits
//!   for an idle keep-alive connection's next request without any limit).
//! * [`upstream_timeouts`]: connect, read and write timeouts on every upstream peer.
//! * HTTP/2 (a TLS listener): the header-list bound and the idle close of a connection, set
//!   when the service is built ([`proxy_service`]).
//!
//! The same wrapper puts the framing tap (`proxy::tap`) around each new connection.

use crate::app::{App, Loaded};
use crate::config::LimitsConfig;
use crate::proxy::tap::Tap;
use crate::proxy::TokenGate;
use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::protocols::http::ServerSession;
use pingora::proxy::{HttpProxy, Session};
use pingora::server::configuration::ServerConf;
use pingora::server::ShutdownWatch;
use pingora::services::listening::Service;
use pingora::upstreams::peer::PeerOptions;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The listener's part of screening, before the pipeline's `screen` step: the header is
/// complete (ends the header deadline), and the body now has its own read timeout.
pub fn header_received(session: &mut Session, loaded: &Loaded) {
    header_complete();
    session.set_read_timeout(Some(loaded.config.limits.client_body_timeout));
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

/// The largest decoded HTTP/2 header list accepted: the largest `limits.max_header_bytes`
/// allowed, plus HPACK's 32 bytes per field for pingora's 256 fields. The configured limit
/// itself is the `screen` step's (`431` with a JSON body, and it follows a reload); pingora's
/// default of 64 KiB would refuse a full session cookie (16 chunks) before that step.
const H2_MAX_HEADER_LIST: u32 = 1024 * 1024 + 32 * 256;

/// The proxy service for `gate`, with [`HeaderDeadline`] around it. An HTTP/2 connection
/// without a stream is closed after `limits.client_header_timeout`, as an idle HTTP/1.1
/// keep-alive connection is (the value at start: pingora takes it when the service is built).
pub fn proxy_service(
    conf: &Arc<ServerConf>,
    gate: TokenGate,
) -> Service<HeaderDeadline<HttpProxy<TokenGate>>> {
    let app = gate.app.clone();
    let idle = app.current.load().config.limits.client_header_timeout;
    let mut proxy = pingora::proxy::http_proxy(conf, gate);
    let mut h2 = pingora::protocols::http::v2::server::default_h2_options();
    h2.max_header_list_size(H2_MAX_HEADER_LIST);
    proxy.h2_options = Some(h2);
    let mut options = HttpServerOptions::default();
    options.h2_idle_timeout = Some(idle);
    proxy.server_options = Some(options);
    Service::new(
        "tokengate proxy".to_owned(),
        HeaderDeadline {
            inner: Arc::new(proxy),
            app,
        },
    )
}

/// Wraps pingora's HTTP application so that each connection's bytes pass the framing tap
/// ([`Tap`]), and each request header must be complete within
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
        let session = Tap::install(session);
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
mod tests;
