//! The admin listener: `/healthz` (the process runs), `/readyz` (config loaded and provider
//! discovery done) and `/metrics` (Prometheus text). Separate from the proxy listener so that it
//! can stay off the public network.

use crate::app::App;
use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use std::sync::Arc;

pub struct Admin {
    pub app: Arc<App>,
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_owned();
        let (status, content_type, body) = match path.as_str() {
            "/healthz" => (200, "text/plain", b"ok".to_vec()),
            "/readyz" => {
                if !self.app.discovery().is_ready() {
                    (503, "text/plain", b"provider discovery pending".to_vec())
                } else if !self.app.store_ready() {
                    (503, "text/plain", b"session store unreachable".to_vec())
                } else {
                    (200, "text/plain", b"ready".to_vec())
                }
            }
            "/metrics" => (
                200,
                "text/plain; version=0.0.4",
                self.app.metrics.render().into_bytes(),
            ),
            _ => (404, "text/plain", b"not found".to_vec()),
        };
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("content-length", body.len())
            .body(body)
            .unwrap_or_else(|_| Response::new(Vec::new()))
    }
}
