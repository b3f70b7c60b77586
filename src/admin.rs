//! The admin listener (`server.admin_listen`): `/healthz` (the process runs), `/readyz` (it can
//! serve: config loaded, provider discovery done, session store reachable) and `/metrics`
//! (Prometheus text). It is a listener of its own so that it can stay off the public network,
//! and so that probes and scrapes never compete with, or show up in, the proxy's traffic.
//!
//! Liveness and readiness are kept apart on purpose: a gateway whose provider is briefly down is
//! alive (restarting it would not help) but not ready (the load balancer should route around it).

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
}

impl Readiness {
    /// `200` when everything is ready, else `503`; the body lists each check, one per line.
    pub fn reply(&self) -> (u16, String) {
        let mark = |ok: bool, bad: &str| if ok { "ok" } else { bad }.to_owned();
        let mut lines = vec![
            "config: ok".to_owned(),
            format!("provider_discovery: {}", mark(self.discovery, "pending")),
        ];
        if let Some(store) = self.store {
            lines.push(format!("session_store: {}", mark(store, "unreachable")));
        }
        let ready = self.discovery && self.store != Some(false);
        let mut body = lines.join("\n");
        body.push('\n');
        (if ready { 200 } else { 503 }, body)
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
mod tests {
    use super::*;

    #[test]
    fn ready_once_discovery_is_done() {
        let r = Readiness {
            discovery: true,
            store: None,
        };
        assert_eq!(
            r.reply(),
            (200, "config: ok\nprovider_discovery: ok\n".to_owned())
        );
    }

    #[test]
    fn not_ready_while_discovery_is_pending() {
        let r = Readiness {
            discovery: false,
            store: None,
        };
        assert_eq!(
            r.reply(),
            (503, "config: ok\nprovider_discovery: pending\n".to_owned())
        );
    }

    #[test]
    fn an_unreachable_store_is_not_ready() {
        let r = Readiness {
            discovery: true,
            store: Some(false),
        };
        assert_eq!(
            r.reply(),
            (
                503,
                "config: ok\nprovider_discovery: ok\nsession_store: unreachable\n".to_owned()
            )
        );
        let r = Readiness {
            discovery: true,
            store: Some(true),
        };
        assert_eq!(r.reply().0, 200);
    }

    #[test]
    fn endpoints_by_method_and_path() {
        assert_eq!(Endpoint::of(&Method::GET, "/healthz"), Endpoint::Health);
        assert_eq!(Endpoint::of(&Method::HEAD, "/readyz"), Endpoint::Ready);
        assert_eq!(Endpoint::of(&Method::GET, "/metrics"), Endpoint::Metrics);
        assert_eq!(
            Endpoint::of(&Method::POST, "/metrics"),
            Endpoint::MethodNotAllowed
        );
        assert_eq!(Endpoint::of(&Method::GET, "/metrics/"), Endpoint::NotFound);
        assert_eq!(Endpoint::of(&Method::GET, "/"), Endpoint::NotFound);
    }
}
