//! Writing a [`Reply`] (the gateway's own answer, decided elsewhere) to a pingora session.

use crate::http::Reply;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

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
