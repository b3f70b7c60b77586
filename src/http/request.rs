//! The request as the pipeline sees it: a few borrowed facts, not a listener's session type.
//! The pingora adapter (`proxy::request`) builds one from a pingora session; a listener that
//! answers instead of proxying (forward-auth) builds one from a plain HTTP request.

use crate::http::framing::Violation;
use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method, Version};
use std::net::IpAddr;

/// What the steps of the pipeline read from a request. Nothing here is HTTP/1-only: an HTTP/2
/// request has no raw head and carries its host as the URI's authority.
#[derive(Clone, Debug)]
pub struct RequestView<'a> {
    pub method: &'a Method,
    pub version: Version,
    /// `Host` (HTTP/1.1), else the URI's authority (HTTP/2 `:authority`).
    pub host: Option<&'a str>,
    /// The path as received, before normalisation.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The peer the request came from (for `X-Forwarded-For`).
    pub client_ip: Option<IpAddr>,
    /// The head exactly as received, where the listener keeps it (HTTP/1): pingora's parsed
    /// header hides a `Content-Length` sent beside `Transfer-Encoding`, and its own copy of the
    /// head has a rewritten target when the client's held control characters.
    pub raw_head: Option<Bytes>,
    /// What the listener found wrong with the request's framing on the wire (`http::framing`):
    /// the head, or chunk lines read with it.
    pub framing: Option<Violation>,
    /// Length of the request target as received, to size a head that has no raw form.
    pub target_len: usize,
}

/// Why a request body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Unreadable,
}

/// A request being answered: its [`RequestView`], and its body for the few endpoints that read
/// one (back-channel logout).
#[async_trait]
pub trait Incoming: Send {
    fn view(&self) -> RequestView<'_>;

    /// The whole body, refused past `limit` bytes.
    async fn read_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError>;
}
