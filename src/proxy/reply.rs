//! Answers the gateway writes itself (errors, `/auth/*`), as plain values. Deciding the answer is
//! pure (`Reply` is data); writing it to a pingora session is the one I/O function here.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

/// A complete response: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    /// A JSON answer; `no-store` because none of the gateway's own answers may be cached.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            body: Bytes::from(body.to_string()),
        }
    }

    /// `{"error": code}`.
    pub fn error(status: u16, code: &str) -> Reply {
        Reply::json(status, serde_json::json!({ "error": code }))
    }

    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![
                ("location", location.to_owned()),
                ("cache-control", "no-store".into()),
            ],
            body: Bytes::new(),
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: Bytes::from(body.to_owned()),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn with_cookies(mut self, set_cookies: impl IntoIterator<Item = String>) -> Reply {
        for c in set_cookies {
            self.headers.push(("set-cookie", c));
        }
        self
    }
}

/// Writes `reply` as an error answer when proxying failed; the connection is not kept alive.
/// The caller (`fail_to_proxy`) first checks that no final response has begun: after one, pingora
/// closes the connection and nothing more may be written.
pub async fn write_error(session: &mut Session, reply: Reply) -> pingora::Result<()> {
    let mut head = ResponseHeader::build(reply.status, Some(reply.headers.len() + 1))?;
    for (name, value) in &reply.headers {
        head.append_header(*name, value.as_str())?;
    }
    head.insert_header("content-length", reply.body.len().to_string())?;
    let body = if session.req_header().method == http::Method::HEAD {
        bytes::Bytes::new()
    } else {
        reply.body
    };
    session
        .as_downstream_mut()
        .write_error_response(head, body)
        .await
}

/// Writes `reply` as the whole response.
pub async fn write(session: &mut Session, reply: Reply) -> pingora::Result<()> {
    let mut head = ResponseHeader::build(reply.status, Some(reply.headers.len() + 1))?;
    for (name, value) in &reply.headers {
        head.append_header(*name, value.as_str())?;
    }
    head.insert_header("content-length", reply.body.len().to_string())?;
    let head_only = session.req_header().method == http::Method::HEAD || reply.body.is_empty();
    session
        .write_response_header(Box::new(head), head_only)
        .await?;
    if !head_only {
        session.write_response_body(Some(reply.body), true).await?;
    }
    Ok(())
}
