//! The pingora `ProxyHttp` implementation. Each phase only wires the request to decisions made
//! elsewhere:
//!
//! ```text
//! request_filter           limits::screen                     → 400 bad_request / 431
//!                          path = path::normalize_path        → 400 bad_path
//!                          /auth/*  → oidc endpoints           → answered here
//!                          route = Router::route(host, path)   → 404 no_route
//!                          session = session_cookie::read      → 401 when required and absent
//!                          csrf::allowed                       → 403 csrf
//!                          Broker::token_for                   → outcome table (401/403/502/503)
//! upstream_peer            route.upstream
//! upstream_request_filter  forward::apply: path, Bearer, no session cookie, X-Forwarded-*
//! response_filter          Set-Cookie from the session's *latest* state, only when it changed
//! logging                  one line and the request metric
//! ```

pub mod csrf;
pub mod forward;
pub mod limits;
pub mod outcome;
pub mod reply;

use crate::app::{App, Loaded};
use crate::config::AuthMode;
use crate::http::{ErrorCode, Reply};
use crate::path::normalize_path;
use crate::routing::is_gateway_path;
use crate::session::cookie::CookieSession;
use crate::session::model::now;
use crate::tokens::broker::{CookieUpdate, Decision, SessionView, Settings, TokenNeed};
use async_trait::async_trait;
use pingora::http::ResponseHeader;
use pingora::prelude::HttpPeer;
use pingora::proxy::{ProxyHttp, Session};
use std::sync::Arc;
use std::time::Instant;

pub struct TokenGate {
    pub app: Arc<App>,
}

/// What one request carries from phase to phase.
pub struct RequestCtx {
    started: Instant,
    loaded: Option<Arc<Loaded>>,
    route: Option<usize>,
    /// Path and query the upstream receives.
    upstream_target: String,
    view: Option<SessionView>,
    /// Chunk indices of the session cookie the request carried.
    cookie_chunks: Vec<usize>,
    /// The request carried a session cookie that could not be used: clear it on the response.
    clear_cookie: bool,
    token: Option<String>,
    decision: Option<Decision>,
    /// A token was needed and could not be obtained (logged as `token=failed`).
    token_failed: bool,
    /// The gateway's own error code when it answered instead of the upstream.
    error: Option<ErrorCode>,
    /// Counts the request as in flight until the context is dropped (graceful shutdown).
    _in_flight: crate::shutdown::RequestGuard,
}

impl RequestCtx {
    fn route_name(&self) -> &str {
        match (&self.loaded, self.route) {
            (Some(l), Some(i)) => l.router.get(i).map(|r| r.name.as_str()).unwrap_or("-"),
            _ => "-",
        }
    }
}

#[async_trait]
impl ProxyHttp for TokenGate {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            loaded: None,
            route: None,
            upstream_target: String::new(),
            view: None,
            cookie_chunks: Vec::new(),
            clear_cookie: false,
            token: None,
            decision: None,
            token_failed: false,
            error: None,
            _in_flight: self.app.in_flight.enter(),
        }
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        let loaded = self.app.current.load_full();
        ctx.loaded = Some(loaded.clone());
        let reply = match limits::screen(session, &loaded) {
            Some(refusal) => Some(refusal),
            None => self.decide(session, ctx, &loaded).await,
        };
        match reply {
            None => Ok(false),
            Some(mut reply) => {
                if reply.code.is_some() {
                    ctx.error = reply.code;
                }
                if ctx.clear_cookie {
                    reply = reply.with_cookies(loaded.cookies.clear(&ctx.cookie_chunks));
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
        let route = ctx
            .loaded
            .as_ref()
            .zip(ctx.route)
            .and_then(|(l, i)| l.router.get(i))
            .ok_or_else(|| {
                pingora::Error::explain(pingora::ErrorType::InternalError, "no route in context")
            })?;
        let up = &route.upstream;
        let mut peer = HttpPeer::new(up.address(), up.tls, up.host.clone());
        if let Some(loaded) = &ctx.loaded {
            limits::upstream_timeouts(&mut peer.options, &loaded.config.limits);
        }
        Ok(Box::new(peer))
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream_request: &mut pingora::http::RequestHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        let Some(loaded) = ctx.loaded.clone() else {
            return Ok(());
        };
        let Some(route) = ctx.route.and_then(|i| loaded.router.get(i)) else {
            return Ok(());
        };
        let authority = if (route.upstream.tls && route.upstream.port == 443)
            || (!route.upstream.tls && route.upstream.port == 80)
        {
            route.upstream.host.clone()
        } else {
            route.upstream.address()
        };
        let client_ip = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip().to_string());
        let original_host = request_host(session).map(str::to_owned);
        forward::apply(
            upstream_request,
            &forward::Forward {
                path_and_query: &ctx.upstream_target,
                upstream_authority: &authority,
                bearer: ctx.token.as_deref(),
                session_cookie: &loaded.config.session.cookie_name,
                client_ip,
                proto: if loaded.cookies.secure {
                    "https"
                } else {
                    "http"
                },
                original_host,
            },
        )
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        let Some(loaded) = ctx.loaded.clone() else {
            return Ok(());
        };
        let name = &loaded.config.session.cookie_name;
        // An upstream must not be able to overwrite the gateway's session.
        drop_upstream_session_cookies(upstream_response, name);
        for c in self.cookie_headers(ctx, &loaded) {
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
        let Some((reply, counted)) = outcome::proxy_failure(e.etype(), e.esource()) else {
            return gone;
        };
        if let Some(error) = counted {
            let route = ctx.route_name().to_owned();
            self.app
                .metrics
                .upstream_errors
                .with_label_values(&[route.as_str(), error])
                .inc();
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
        ctx.error = reply.code;
        let cookies = match ctx.loaded.clone() {
            Some(loaded) => self.cookie_headers(ctx, &loaded),
            None => Vec::new(),
        };
        if let Err(e) = reply::write_error(session, reply.with_cookies(cookies)).await {
            tracing::debug!(error = %e, "could not write the error answer");
            return gone;
        }
        pingora::proxy::FailToProxy {
            error_code: status,
            can_reuse_downstream: false,
        }
    }

    fn suppress_error_log(
        &self,
        _session: &Session,
        _ctx: &RequestCtx,
        e: &pingora::Error,
    ) -> bool {
        outcome::client_went_away(e.etype(), e.esource())
    }

    async fn logging(
        &self,
        session: &mut Session,
        e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let route = ctx.route_name().to_owned();
        self.app
            .metrics
            .requests
            .with_label_values(&[route.as_str(), status_label(status)])
            .inc();
        let latency_ms = ctx.started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            target: "tokengate::access",
            method = %session.req_header().method,
            route = %route,
            status,
            latency_ms = format_args!("{latency_ms:.2}"),
            token = match (ctx.decision, ctx.token_failed) {
                (Some(d), _) => d.as_str(),
                (None, true) => "failed",
                (None, false) => "none",
            },
            error = ctx.error.map_or("", ErrorCode::as_str),
            upstream_error = e.map(|e| e.etype().as_str()).unwrap_or(""),
            "request"
        );
    }
}

impl TokenGate {
    /// Everything `request_filter` decides. `None`: proxy the request; `Some`: answer with it.
    async fn decide(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        loaded: &Arc<Loaded>,
    ) -> Option<Reply> {
        let req = session.req_header();
        let path = match normalize_path(req.uri.path()) {
            Ok(p) => p,
            Err(_) => return Some(Reply::error(400, ErrorCode::BadPath)),
        };
        if is_gateway_path(&path) {
            return Some(crate::oidc::endpoints::handle(&self.app, loaded, session, &path).await);
        }
        let host = request_host(session);
        let Some(route_ref) = loaded.router.route(host, &path) else {
            return Some(Reply::error(404, ErrorCode::NoRoute));
        };
        let route_index = route_ref.index;
        let route = &route_ref.config;
        ctx.route = Some(route_index);
        let mut upstream_path = crate::routing::upstream_path(route, &path);
        // `//x` would read as an authority in a request target; one leading slash is the path.
        if upstream_path.starts_with("//") {
            upstream_path = format!("/{}", upstream_path.trim_start_matches('/'));
        }
        ctx.upstream_target = match session.req_header().uri.query() {
            Some(q) => format!("{upstream_path}?{q}"),
            None => upstream_path,
        };
        if route.auth == AuthMode::None {
            return None;
        }

        let t = now();
        let read = loaded
            .session_reader()
            .read(&session.req_header().headers, t);
        ctx.cookie_chunks = read.chunks().to_vec();
        let view = match read {
            CookieSession::Valid { session: s, .. } => self.app.broker.resolve(s),
            CookieSession::Reference { sid, .. } => {
                match self
                    .app
                    .broker
                    .resolve_reference(&sid, &loaded.keys, &loaded.lifetime)
                    .await
                {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "session store unavailable");
                        return Some(Reply::store_unavailable());
                    }
                }
            }
            CookieSession::Absent => None,
            CookieSession::Unusable { reason, .. } => {
                self.app
                    .metrics
                    .session_rejected
                    .with_label_values(&[reason])
                    .inc();
                tracing::debug!(reason, "session cookie rejected");
                ctx.clear_cookie = true;
                None
            }
        };
        let Some(mut view) = view else {
            if !ctx.cookie_chunks.is_empty() {
                ctx.clear_cookie = true;
            }
            return match route.auth {
                AuthMode::Required => Some(Reply::unauthenticated()),
                _ => None,
            };
        };

        if route.csrf {
            let req = session.req_header();
            let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok());
            let facts = csrf::CsrfFacts {
                method: &req.method,
                origin: header("origin"),
                sec_fetch_site: header("sec-fetch-site"),
                x_csrf: header("x-csrf"),
            };
            if !csrf::allowed(facts, &loaded.public_origin) {
                return Some(Reply::error(403, ErrorCode::Csrf));
            }
        }

        if loaded.lifetime.needs_touch(&view.session, t) {
            if let Err(e) = self.app.broker.touch(&mut view, &loaded.lifetime).await {
                tracing::warn!(error = %e, "could not extend the session's idle timeout");
            }
        }
        let need = TokenNeed {
            route: &route.name,
            audience: route.audience.as_deref().or(loaded
                .config
                .provider
                .login
                .audience
                .as_deref()),
            scope: &route.scope,
        };
        let result = self
            .app
            .broker
            .token_for(
                &mut view,
                need,
                Settings {
                    policy: loaded.policy,
                    provider: &loaded.config.provider,
                    keys: &loaded.keys,
                    lifetime: &loaded.lifetime,
                },
            )
            .await;
        ctx.view = Some(view);
        match result {
            Ok((token, decision)) => {
                ctx.token = Some(token);
                ctx.decision = Some(decision);
                None
            }
            Err(e) => {
                ctx.token_failed = true;
                if e == crate::tokens::broker::TokenError::SessionExpired {
                    ctx.clear_cookie = true;
                }
                let reply = e.reply();
                // A failure can still have changed the session (a rotated refresh token).
                Some(reply.with_cookies(self.cookie_headers(ctx, loaded)))
            }
        }
    }

    /// `Set-Cookie` values for the response: the latest session when it changed, or clearing.
    fn cookie_headers(&self, ctx: &mut RequestCtx, loaded: &Loaded) -> Vec<String> {
        let name = &loaded.config.session.cookie_name;
        let update = match &ctx.view {
            Some(view) => self
                .app
                .broker
                .cookie_for_response(view, |s| loaded.keys.seal_session(name, s)),
            None => CookieUpdate::Unchanged,
        };
        match update {
            CookieUpdate::Write(sealed) => {
                let max_age = ctx
                    .view
                    .as_ref()
                    .map(|v| loaded.lifetime.max_age(&v.session, now()))
                    .unwrap_or(0);
                loaded.cookies.write(&sealed, &ctx.cookie_chunks, max_age)
            }
            CookieUpdate::Clear => {
                ctx.clear_cookie = false;
                loaded.cookies.clear(&ctx.cookie_chunks)
            }
            CookieUpdate::Unchanged if ctx.clear_cookie => {
                ctx.clear_cookie = false;
                loaded.cookies.clear(&ctx.cookie_chunks)
            }
            CookieUpdate::Unchanged => Vec::new(),
        }
    }
}

/// The request's host: the `Host` header (HTTP/1.1), else the URI authority (HTTP/2).
fn request_host(session: &Session) -> Option<&str> {
    let req = session.req_header();
    req.headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
}

/// Removes any upstream `Set-Cookie` that would overwrite a session chunk.
fn drop_upstream_session_cookies(resp: &mut ResponseHeader, name: &str) {
    let values: Vec<http::HeaderValue> =
        resp.headers.get_all("set-cookie").iter().cloned().collect();
    let bad = |v: &http::HeaderValue| {
        let text = String::from_utf8_lossy(v.as_bytes());
        let cookie_name = text.split('=').next().unwrap_or("").trim().to_owned();
        crate::session::cookie::chunks::is_gateway_cookie(name, &cookie_name)
    };
    if values.iter().any(bad) {
        resp.remove_header("set-cookie");
        for v in values.into_iter().filter(|v| !bad(v)) {
            let _ = resp.append_header("set-cookie", v);
        }
    }
}

/// Status codes as metric labels without allocating.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        101 => "101",
        204 => "204",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        431 => "431",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        0 => "0",
        s if s < 200 => "1xx",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}
