//! The admin listener (`server.admin_listen`): `/healthz` (the process runs), `/readyz` (it can
//! serve: config loaded, provider discovery done; the session store's state is reported, and
//! decides only when asked with `?store=required`) and `/metrics` (Prometheus text). It is a listener of its own so that it can stay off the public network,
//! and so that probes and scrapes never compete with, or show up in, the proxy's traffic.
//!
//! Liveness and readiness are kept apart on purpose: a gateway whose provider is briefly down is
//! alive (restarting it would not help) but not ready (the load balancer should route around it).
//!
//! Redis does not take a replica out of the load balancer by default: every replica shares the
//! one Redis, so an outage would make them all unready at once and the Service would drop every
//! route, `auth: none` ones included, which the gateway can still serve. Requests that need a
//! session answer `503 session_store_unavailable` meanwhile. A deployment whose every route
//! needs a session, or whose replicas may reach Redis differently, probes
//! `/readyz?store=required` instead.

use crate::app::App;
use async_trait::async_trait;
use http::{Method, Response};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::sync::Arc;

pub struct Admin {
    pub app: Arc<App>,
}

/// What `/readyz` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub discovery: bool,
    /// `None` when the session store needs no check.
    pub store: Option<bool>,
    /// Whether an unreachable store makes the answer `503` (`?store=required`); else it is only
    /// reported.
    pub store_required: bool,
    /// Seconds until the listener's certificate expires (negative: expired); `None` without
    /// TLS. Reported only: a replica with an expiring certificate can still serve.
    pub tls_seconds_left: Option<i64>,
}

/// Whether a `/readyz` query string asks for the store to count (`store=required`).
pub fn store_required(query: Option<&str>) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .any(|pair| pair == "store=required")
}

impl Readiness {
    /// `200` when everything that counts is ready, else `503`; the body lists each check, one
    /// per line, whether it counts or not.
    pub fn reply(&self) -> (u16, String) {
        let mark = |ok: bool, bad: &str| if ok { "ok" } else { bad }.to_owned();
        let mut lines = vec![
            "config: ok".to_owned(),
            format!("provider_discovery: {}", mark(self.discovery, "pending")),
        ];
        if let Some(store) = self.store {
            lines.push(format!("session_store: {}", mark(store, "unreachable")));
        }
        if let Some(left) = self.tls_seconds_left {
            lines.push(tls_line(left));
        }
        let store_ok = !self.store_required || self.store != Some(false);
        let ready = self.discovery && store_ok;
        let mut body = lines.join("\n");
        body.push('\n');
        (if ready { 200 } else { 503 }, body)
    }
}

/// `tls_certificate: ok, expires in 89 days` (whole days, rounded down), or `expired`.
fn tls_line(seconds_left: i64) -> String {
    if seconds_left <= 0 {
        "tls_certificate: expired".to_owned()
    } else {
        format!(
            "tls_certificate: ok, expires in {} days",
            seconds_left / 86_400
        )
    }
}

/// The admin endpoints.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Ready,
    Metrics,
    NotFound,
    MethodNotAllowed,
}

impl Endpoint {
    pub fn of(method: &Method, path: &str) -> Endpoint {
        let endpoint = match path {
            "/healthz" => Endpoint::Health,
            "/readyz" => Endpoint::Ready,
            "/metrics" => Endpoint::Metrics,
            _ => return Endpoint::NotFound,
        };
        if method == Method::GET || method == Method::HEAD {
            endpoint
        } else {
            Endpoint::MethodNotAllowed
        }
    }
}

const TEXT: &str = "text/plain; charset=utf-8";
/// The Prometheus text exposition format.
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let (status, content_type, body) = match Endpoint::of(&req.method, req.uri.path()) {
            Endpoint::Health => (200, TEXT, "ok\n".to_owned()),
            Endpoint::Ready => {
                let readiness = Readiness {
                    discovery: self.app.discovery().is_ready(),
                    store: self.app.store_ready().await,
                    store_required: store_required(req.uri.query()),
                    tls_seconds_left: self.app.listener_cert.as_ref().map(|c| {
                        c.current()
                            .seconds_left(crate::session::model::now() as i64)
                    }),
                };
                let (status, body) = readiness.reply();
                (status, TEXT, body)
            }
            Endpoint::Metrics => (200, PROMETHEUS, self.app.metrics.render()),
            Endpoint::NotFound => (404, TEXT, "not found\n".to_owned()),
            Endpoint::MethodNotAllowed => (405, TEXT, "method not allowed\n".to_owned()),
        };
        let body = body.into_bytes();
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("content-length", body.len())
            .header("cache-control", "no-store")
            .body(body)
            .unwrap_or_else(|_| Response::new(Vec::new()))
    }
}

#[cfg(test)]
mod tests;
