//! Raw HTTP/1.1 bytes to the gateway and its answer back, for requests no client library would
//! send (conflicting framing, no `Host`, a 1 MiB header, a header sent one byte at a time).

use crate::support::raw::RawResponse;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the gateway to answer or close.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

pub async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the gateway")
}

/// Sends `request` and reads until the gateway closes the connection. `None` when it closed
/// without answering. A write error is ignored: the gateway may answer and close before it has
/// read everything (an oversized header), and the answer is what the test checks.
pub async fn exchange(port: u16, request: &[u8]) -> Option<RawResponse> {
    let mut stream = connect(port).await;
    let _ = stream.write_all(request).await;
    read_answer(&mut stream).await
}

/// Reads what the gateway sends until it closes the connection.
pub async fn read_answer(stream: &mut TcpStream) -> Option<RawResponse> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(ANSWER_WITHIN, stream.read_to_end(&mut buf))
        .await
        .expect("the gateway answers or closes within 10 s");
    if read.is_err() && buf.is_empty() {
        return None;
    }
    parse(&buf)
}

/// Reads one response on a kept-alive connection (headers, then `Content-Length` bytes).
pub async fn read_one(stream: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(ANSWER_WITHIN, stream.read(&mut byte))
            .await
            .expect("a response header within 10 s")
            .expect("read the response header");
        assert!(
            n > 0,
            "connection closed mid-header: {:?}",
            buf.escape_ascii()
        );
        buf.push(byte[0]);
    }
    let head = parse(&buf).expect("a response header");
    let length: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    tokio::time::timeout(ANSWER_WITHIN, stream.read_exact(&mut body))
        .await
        .expect("the body within 10 s")
        .expect("read the body");
    RawResponse {
        body: String::from_utf8_lossy(&body).into_owned(),
        ..head
    }
}

/// True when the gateway closes `stream` within `within` (read gives end of file or a reset).
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

fn parse(buf: &[u8]) -> Option<RawResponse> {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(RawResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}
