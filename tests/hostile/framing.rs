//! Strict framing (RFC 9112 §2.2, §3.2, §6.3, §7.1; docs/reference.md#proxying-a-request): the
//! shapes pingora 0.9 accepts but another server may frame differently — a bare LF in a chunk
//! line or in the head, control characters in the target, a `Content-Length` list or repeat —
//! are `400 bad_request` and never reach an upstream as a different framing, including a bad
//! chunk line that arrives after the request head was forwarded.

use crate::support::route;
use crate::wire::{connect, exchange, read_answer};
use crate::Stand;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn bad_request(detail: &str) -> serde_json::Value {
    json!({"error": "bad_request", "detail": detail})
}

/// Sends `head` (request line and fields, CRLF-joined unless they hold their own line ends) and
/// `body`; the answer must be `400` with `detail`.
async fn refused(s: &Stand, raw: &[u8], detail: &str) {
    let r = exchange(s.port(), raw)
        .await
        .unwrap_or_else(|| panic!("no answer to {:?}", raw.escape_ascii().to_string()));
    assert_eq!(r.status, 400, "{:?}", raw.escape_ascii().to_string());
    assert_eq!(
        r.json(),
        bad_request(detail),
        "{:?}",
        raw.escape_ascii().to_string()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bare_lf_in_a_chunk_line_is_400_and_nothing_is_forwarded() {
    let s = Stand::start("").await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    let head = format!("POST /open/x HTTP/1.1\r\n{host}\r\nTransfer-Encoding: chunked\r\n\r\n");
    for body in [
        "5;x=y\nhello\r\n0\r\n\r\n".to_owned(),
        format!("2;\nxx\r\n45\r\n0\r\n\r\nGET /open/smuggled HTTP/1.1\r\n{host}\r\n\r\n"),
        "5\nhello\r\n0\r\n\r\n".to_owned(),
        "5;x=\"a\nb\"\r\nhello\r\n0\r\n\r\n".to_owned(),
        "5\r\nhello\n0\r\n\r\n".to_owned(),
        "5\r\nhello\r\n0\r\n\n".to_owned(),
    ] {
        refused(&s, format!("{head}{body}").as_bytes(), "invalid_chunk").await;
    }
    assert_eq!(s.up.count(), 0, "no request reached the upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_lf_heads_control_characters_and_length_lists_are_400() {
    let s = Stand::start("").await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    let cases: Vec<(String, &str)> = vec![
        (format!("GET /open/x HTTP/1.1\n{host}\n\n"), "bare_lf"),
        (format!("GET /open/x HTTP/1.1\r\n{host}\n\r\n"), "bare_lf"),
        (format!("GET /open/a\tb HTTP/1.1\r\n{host}\r\n\r\n"), "invalid_target"),
        (format!("GET /open/a\x7fb HTTP/1.1\r\n{host}\r\n\r\n"), "invalid_target"),
        (format!("GET /open/a\x01b HTTP/1.1\r\n{host}\r\n\r\n"), "invalid_target"),
        (
            format!("POST /open/x HTTP/1.1\r\n{host}\r\nContent-Length: 5, 5\r\n\r\nhello"),
            "invalid_content_length",
        ),
        (
            format!(
                "POST /open/x HTTP/1.1\r\n{host}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
            ),
            "invalid_content_length",
        ),
    ];
    for (raw, detail) in cases {
        refused(&s, raw.as_bytes(), detail).await;
    }
    assert_eq!(s.up.count(), 0, "no request reached the upstream");
    // The strict forms still pass.
    let ok = format!(
        "POST /open/x HTTP/1.1\r\n{host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    );
    assert_eq!(
        exchange(s.port(), ok.as_bytes()).await.map(|r| r.status),
        Some(200)
    );
    let chunked = format!(
        "POST /open/x HTTP/1.1\r\n{host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;a=b;c=\"d e\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"
    );
    assert_eq!(
        exchange(s.port(), chunked.as_bytes())
            .await
            .map(|r| r.status),
        Some(200)
    );
}

/// An upstream that never answers and records every byte it receives.
pub struct Recording {
    pub url: String,
    pub seen: Arc<Mutex<Vec<u8>>>,
    pub accepted: Arc<AtomicBool>,
    pub closed: Arc<AtomicBool>,
}

pub async fn recording_upstream() -> Recording {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let r = Recording {
        url: format!("http://{}", listener.local_addr().expect("addr")),
        seen: Arc::default(),
        accepted: Arc::default(),
        closed: Arc::default(),
    };
    let (seen, accepted, closed) = (r.seen.clone(), r.accepted.clone(), r.closed.clone());
    tokio::spawn(async move {
        let Ok((mut conn, _)) = listener.accept().await else {
            return;
        };
        accepted.store(true, Ordering::SeqCst);
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(15), conn.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => seen.lock().expect("lock").extend_from_slice(&buf[..n]),
                _ => break,
            }
        }
        closed.store(true, Ordering::SeqCst);
    });
    r
}

pub async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_chunk_line_after_the_head_was_forwarded_never_reaches_the_upstream() {
    let Recording {
        url, seen, closed, ..
    } = recording_upstream().await;
    let s = Stand::with_routes("", &[route("late", "/late", &url, &["auth: none"])]).await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    let mut client = connect(s.port()).await;
    let head = format!("POST /late/x HTTP/1.1\r\n{host}\r\nTransfer-Encoding: chunked\r\n\r\n");
    client.write_all(head.as_bytes()).await.expect("send head");
    client
        .write_all(b"5\r\nhello\r\n")
        .await
        .expect("send chunk");
    let saw = |needle: &'static [u8]| {
        let seen = seen.clone();
        move || {
            seen.lock()
                .expect("lock")
                .windows(needle.len())
                .any(|w| w == needle)
        }
    };
    wait_for("the first chunk at the upstream", saw(b"hello")).await;
    let smuggle = format!("2;\nxx\r\n45\r\n0\r\n\r\nGET /late/smuggled HTTP/1.1\r\n{host}\r\n\r\n");
    client
        .write_all(smuggle.as_bytes())
        .await
        .expect("send the rest");
    let r = read_answer(&mut client).await.expect("an answer");
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), bad_request("invalid_chunk"));
    wait_for("the upstream connection to close", || {
        closed.load(Ordering::SeqCst)
    })
    .await;
    let seen = seen.lock().expect("lock").clone();
    let text = String::from_utf8_lossy(&seen);
    assert!(!text.contains("xx"), "bad chunk forwarded: {text:?}");
    assert!(
        !text.contains("smuggled"),
        "smuggled request forwarded: {text:?}"
    );
    assert!(
        !text.contains("0\r\n\r\n"),
        "the body was completed upstream: {text:?}"
    );
}
