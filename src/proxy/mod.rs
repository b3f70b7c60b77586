//! The pingora adapter: `ProxyHttp` phases wired to the request pipeline (`pipeline`), and
//! nothing decided here. Each phase, and what it hands to or takes from the pipeline:
//!
//! ```text
//! (listener)               limits::HeaderDeadline; tap::Tap: every byte read from the client
//!                          also goes through `http::framing` (heads as received, chunk lines)
//! new_ctx                  the current config, for the whole request   → RequestState
//! request_filter           limits::header_received (deadlines)
//!                          pipeline::run: screen → normalize → gateway (/auth/*) → route
//!                            → client_headers → session → csrf → policy → idle → token → upstream
//!                          Break(reply): respond::finish, reply::write; Continue: proxy
//! upstream_peer            peer::for_route: the route's upstream, its TLS, the time limits
//! upstream_request_filter  forward::apply: target, Bearer, no session cookie, client identity
//!                          and forwarding headers removed, X-Forwarded-*
//! response_filter          forward::drop_upstream_session_cookies;
//!                          Set-Cookie from the session's *latest* state (respond::set_cookies);
//!                          a 101 makes the tap stop reading HTTP
//! fail_to_proxy            failure::framing_failure (a bad chunk line: 400) or
//!                          failure::proxy_failure → a JSON error, still with the Set-Cookie;
//!                          the gateway's own log line (pingora's, with its request summary
//!                          and error context, is suppressed)
//! logging                  access_log::record: one line and the request metric
//! ```
//!
//! pingora's own error lines name the request by [`ProxyHttp::request_summary`]; here that is the
//! method and the path, never the query (an authorization code, or any secret an application
//! puts in a query string, must not reach a log).

pub mod access_log;
pub mod failure;
pub mod forward;
pub mod limits;
pub mod peer;
pub mod reply;
pub mod request;
pub mod tap;

use crate::app::App;
use crate::pipeline::{self, respond, RequestState};
use async_trait::async_trait;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{ProxyHttp, Session};
use request::PingoraRequest;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;
use tap::Tap;

pub struct TokenGate {
    pub app: Arc<App>,
}

/// What one request carries from phase to phase.
pub struct RequestCtx {
    started: Instant,
    state: RequestState,
    /// Counts the request as in flight until the context is dropped (graceful shutdown).
    _in_flight: crate::shutdown::RequestGuard,
}

#[async_trait]
impl ProxyHttp for TokenGate {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            state: RequestState::new(self.app.current.load_full()),
            _in_flight: self.app.in_flight.enter(),
        }
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        limits::header_received(session, &ctx.state.loaded);
        let flow =
            pipeline::run(&self.app, &mut PingoraRequest::new(session), &mut ctx.state).await;
        match flow {
            ControlFlow::Continue(()) => Ok(false),
            ControlFlow::Break(reply) => {
                let reply = respond::finish(&mut ctx.state, reply);
                if ctx.state.close {
                    session.set_keepalive(None);
                }
                reply::write(session, reply).await?;
                Ok(true)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        let route = ctx.state.route.as_ref().ok_or_else(|| {
            pingora::Error::explain(pingora::ErrorType::InternalError, "no route in context")
        })?;
        Ok(Box::new(peer::for_route(
            &route.config,
            &ctx.state.loaded.config.limits,
        )))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream_request: &mut pingora::http::RequestHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        let state = &ctx.state;
        if state.route.is_none() {
            return Ok(());
        }
        forward::apply(
            upstream_request,
            &forward::Forward {
                upstream: &state.upstream,
                bearer: state.bearer(),
                session_cookie: &state.loaded.cookies.name,
                stripped: &state.loaded.stripped,
                client: &state.client_headers,
            },
        )
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        if upstream_response.status == http::StatusCode::SWITCHING_PROTOCOLS {
            if let Some(tap) = Tap::of(session.as_downstream()) {
                tap.upgraded();
            }
        }
        // An upstream must not be able to overwrite the gateway's session.
        forward::drop_upstream_session_cookies(upstream_response, &ctx.state.loaded.cookies.name);
        let cookies = respond::set_cookies(&self.app, &mut ctx.state);
        if !cookies.is_empty() {
            // A shared cache must never keep a response that carries the session.
            let existing: Vec<&str> = upstream_response
                .headers
                .get_all("cache-control")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let joined = (!existing.is_empty()).then(|| existing.join(", "));
            let value = crate::http::cache_control::private_no_store(joined.as_deref());
            upstream_response.insert_header("cache-control", value)?;
        }
        for c in cookies {
            upstream_response.append_header("set-cookie", c)?;
        }
        Ok(())
    }

    /// The upstream failed (or the client's request did, after the gateway's decision): a JSON
    /// answer like every other the gateway writes, counted, and still carrying the session's
    /// `Set-Cookie`, so that a token fetched or a refresh token rotated for this request is not
    /// lost with it.
    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &pingora::Error,
        ctx: &mut RequestCtx,
    ) -> pingora::proxy::FailToProxy
    where
        RequestCtx: Send + Sync,
    {
        let gone = pingora::proxy::FailToProxy {
            error_code: 0,
            can_reuse_downstream: false,
        };
        failure::log(e, ctx.state.route_name());
        let framing = Tap::of(session.as_downstream()).and_then(Tap::violation);
        let failure = match failure::framing_failure(framing, e.esource()) {
            Some((reply, reason)) => {
                self.app.metrics.refused.with_label_values(&[reason]).inc();
                Some((reply, None))
            }
            None => failure::proxy_failure(failure::kind_of(e), e.esource()),
        };
        let Some((reply, counted)) = failure else {
            return gone;
        };
        if let Some(error) = counted {
            let route = ctx.state.route_name();
            self.app
                .metrics
                .upstream_errors
                .with_label_values(&[route, error])
                .inc();
            if error == failure::TLS {
                // Never a plaintext retry: the operator needs to know which route's upstream,
                // CA or certificate is wrong. The cause names the certificate problem only.
                tracing::warn!(route, cause = %e, "upstream TLS failed");
            }
        }
        // A final answer has begun (its head carried the cookies): pingora closes the
        // connection, there is nothing more to write. An informational one (`100 Continue`,
        // `103 Early Hints`) is not final: the error answer still goes out, with the cookies.
        let begun = session
            .response_written()
            .is_some_and(|r| !r.status.is_informational() || r.status == 101);
        if begun {
            return gone;
        }
        let status = reply.status;
        ctx.state.error = reply.code;
        let cookies = respond::set_cookies(&self.app, &mut ctx.state);
        if let Err(e) = reply::write_error(session, reply.with_cookies(cookies)).await {
            tracing::debug!(error = %e, "could not write the error answer");
            return gone;
        }
        pingora::proxy::FailToProxy {
            error_code: status,
            can_reuse_downstream: false,
        }
    }

    /// pingora's line carries the error's context (for an upstream that answered garbage, its
    /// response head, cookies included); `fail_to_proxy` logged the failure without it.
    fn suppress_error_log(
        &self,
        _session: &Session,
        _ctx: &RequestCtx,
        _e: &pingora::Error,
    ) -> bool {
        true
    }

    fn request_summary(&self, session: &Session, _ctx: &RequestCtx) -> String {
        let req = session.req_header();
        format!("{} {}", req.method, req.uri.path())
    }

    async fn logging(
        &self,
        session: &mut Session,
        e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        if let Some(tap) = Tap::of(session.as_downstream()) {
            tap.answered();
        }
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let method = &session.req_header().method;
        access_log::record(&self.app, method, status, ctx.started, &ctx.state, e);
    }
}
