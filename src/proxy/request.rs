//! A pingora session as the pipeline's [`Incoming`] request: the only place the pipeline's view
//! of a request is taken from pingora.

use crate::http::framing::connection::Observed;
use crate::http::framing::Violation;
use crate::http::request::BodyError;
use crate::http::{Incoming, RequestView};
use crate::proxy::tap::Tap;
use async_trait::async_trait;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

pub struct PingoraRequest<'s> {
    pub session: &'s mut Session,
    /// The head as the framing tap received it (HTTP/1).
    wire: Wire,
}

/// What the framing tap saw of this request.
enum Wire {
    /// HTTP/2: no tap, no raw head.
    Untapped,
    Observed(Observed),
    /// The tap did not follow this request's head: its framing is unknown.
    Lost,
}

impl<'s> PingoraRequest<'s> {
    /// The request pingora has just parsed, with its head as the tap received it.
    pub fn new(session: &'s mut Session) -> PingoraRequest<'s> {
        let wire = match Tap::of(session.as_downstream()) {
            None => Wire::Untapped,
            Some(tap) => tap.take_head().map_or(Wire::Lost, Wire::Observed),
        };
        PingoraRequest { session, wire }
    }
}

#[async_trait]
impl Incoming for PingoraRequest<'_> {
    fn view(&self) -> RequestView<'_> {
        let mut view = view_of(self.session);
        match &self.wire {
            Wire::Untapped => {}
            Wire::Observed(observed) => {
                view.raw_head = Some(observed.head.clone());
                view.framing = observed.violation;
            }
            Wire::Lost => view.framing = Some(Violation::Unobserved),
        }
        view
    }

    async fn read_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError> {
        let mut body = Vec::new();
        loop {
            match self.session.read_request_body().await {
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

/// The request facts the pipeline reads, borrowed from the session; the raw head is pingora's
/// copy (the framing tap's, as received, replaces it in [`PingoraRequest::view`]).
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
        framing: None,
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
