//! A pingora session as the pipeline's [`Incoming`] request: the only place the pipeline's view
//! of a request is taken from pingora.

use crate::http::request::BodyError;
use crate::http::{Incoming, RequestView};
use async_trait::async_trait;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

pub struct PingoraRequest<'s>(pub &'s mut Session);

#[async_trait]
impl Incoming for PingoraRequest<'_> {
    fn view(&self) -> RequestView<'_> {
        view_of(self.0)
    }

    async fn read_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError> {
        let mut body = Vec::new();
        loop {
            match self.0.read_request_body().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(BodyError::TooLarge);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(_) => return Err(BodyError::Unreadable),
            }
        }
    }
}

/// The request facts the pipeline reads, borrowed from the session.
pub fn view_of(session: &Session) -> RequestView<'_> {
    let req = session.req_header();
    RequestView {
        method: &req.method,
        version: req.version,
        host: request_host(req),
        path: req.uri.path(),
        query: req.uri.query(),
        headers: &req.headers,
        client_ip: session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip()),
        raw_head: session
            .as_downstream()
            .as_http1()
            .map(|h1| h1.get_headers_raw_bytes()),
        target_len: req.raw_path().len(),
    }
}

/// The request's host: the `Host` header (HTTP/1.1), else the URI authority (HTTP/2).
fn request_host(req: &RequestHeader) -> Option<&str> {
    req.headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
}
