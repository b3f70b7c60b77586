//! The `limits:` section on the wire: `431` for oversized heads and cookies, no session beyond
//! the chunk limit, the client header and body deadlines, the upstream read timeout, and the
//! bounded token-endpoint answer.

use crate::support::{
    clears_cookie, client, cookie_for, json_body, route, session_for, token_set, Fault, COOKIE,
};
use crate::wire::{closed_within, connect, exchange, read_one};
use crate::{Stand, PRIMARY};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

const SMALL: &str = "limits:\n  max_header_bytes: 8192\n  max_cookie_bytes: 6000\n";

fn get_with(s: &Stand, headers: &[(String, String)]) -> Vec<u8> {
    let mut raw = format!(
        "GET /open/x HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
        s.port()
    );
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_heads_and_cookies_are_431() {
    let s = Stand::start(SMALL).await;
    let header = |n: usize| vec![("X-Pad".to_owned(), "p".repeat(n))];
    let cookie = |n: usize| ("Cookie".to_owned(), format!("other={}", "c".repeat(n)));
    let too_large = json!({"error": "request_header_fields_too_large"});

    let r = exchange(s.port(), &get_with(&s, &header(9000)))
        .await
        .expect("answer");
    assert_eq!(
        (r.status, r.json()),
        (431, too_large.clone()),
        "head over 8192"
    );
    let r = exchange(s.port(), &get_with(&s, &[cookie(6100)]))
        .await
        .expect("answer");
    assert_eq!(
        (r.status, r.json()),
        (431, too_large.clone()),
        "cookie over 6000"
    );
    // Two Cookie fields count together.
    let split = [cookie(3100), cookie(3100)];
    let r = exchange(s.port(), &get_with(&s, &split))
        .await
        .expect("answer");
    assert_eq!(
        (r.status, r.json()),
        (431, too_large),
        "two fields over 6000"
    );
    assert_eq!(s.up.count(), 0, "nothing refused was forwarded");

    // When the cookies are too large, the session's own chunks are cleared with the 431 (else
    // the browser would resend them, and get a 431, for ever); a large head alone clears nothing.
    let session_bomb = (
        "Cookie".to_owned(),
        format!("{COOKIE}={}; {COOKIE}.1=b; theme=dark", "a".repeat(6100)),
    );
    let r = exchange(s.port(), &get_with(&s, &[session_bomb]))
        .await
        .expect("answer");
    assert_eq!(r.status, 431);
    let set: Vec<String> = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect();
    assert!(
        clears_cookie(&set, COOKIE) && clears_cookie(&set, &format!("{COOKIE}.1")),
        "{set:?}"
    );
    assert_eq!(set.len(), 2, "only the session's chunks: {set:?}");
    let with_session = [
        ("Cookie".to_owned(), s.cookie.clone()),
        header(9000).remove(0),
    ];
    let r = exchange(s.port(), &get_with(&s, &with_session))
        .await
        .expect("answer");
    assert_eq!(r.status, 431);
    assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);

    // Just under both limits: served.
    let r = exchange(
        s.port(),
        &get_with(&s, &[cookie(5900), header(1000).remove(0)]),
    )
    .await
    .expect("answer");
    assert_eq!(r.status, 200);
    assert_eq!(s.up.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn default_limits_take_a_full_session_and_refuse_a_larger_head() {
    let s = Stand::start("").await;
    // Sixteen full chunks (the most the gateway writes) plus other cookies: accepted.
    let chunks: Vec<String> = (0..16)
        .map(|k| match k {
            0 => format!("{COOKIE}={}", "a".repeat(4000)),
            k => format!("{COOKIE}.{k}={}", "a".repeat(4000)),
        })
        .collect();
    let full = format!("{}; theme=dark", chunks.join("; "));
    let r = exchange(s.port(), &get_with(&s, &[("Cookie".into(), full)])).await;
    assert_eq!(
        r.map(|r| r.status),
        Some(200),
        "a 64 KB cookie is within the default"
    );
    let big = vec![("X-Pad".to_owned(), "p".repeat(100 * 1024))];
    let r = exchange(s.port(), &get_with(&s, &big))
        .await
        .expect("answer");
    assert_eq!(r.status, 431, "a 100 KiB head is over the 96 KiB default");
}

/// A session that needs three cookie chunks.
fn three_chunk_cookie(provider: &crate::support::MockProvider) -> String {
    let mut session = session_for(&provider.mint_refresh_token(), PRIMARY);
    let exp = tokengate::session::model::now() + 3600;
    for i in 0..3 {
        let aud = format!("https://svc{i}.example");
        session
            .extra
            .push(token_set(Some(&aud), "", &"t".repeat(2200), exp));
    }
    let cookie = cookie_for(&session);
    assert!(cookie.contains(&format!("{COOKIE}.2=")) && !cookie.contains(&format!("{COOKIE}.3=")));
    cookie
}

#[tokio::test(flavor = "multi_thread")]
async fn more_chunks_than_allowed_is_no_session() {
    let s = Stand::start("limits:\n  max_cookie_chunks: 2\n").await;
    let cookie = three_chunk_cookie(&s.provider);
    let c = client();
    let r = c
        .get(s.gw.url("/api/x"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let set = crate::support::set_cookies(&r);
    for name in [
        COOKIE.to_owned(),
        format!("{COOKIE}.1"),
        format!("{COOKIE}.2"),
    ] {
        assert!(clears_cookie(&set, &name), "{name} not cleared: {set:?}");
    }
    assert_eq!(json_body(r).await, json!({"error": "unauthenticated"}));
    // `auth: optional` proceeds without a token; `/auth/session` sees nobody.
    let r = c
        .get(s.gw.url("/opt/x"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(json_body(r).await["headers"].get("authorization").is_none());
    let r = c
        .get(s.gw.url("/auth/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let s3 = Stand::start("limits:\n  max_cookie_chunks: 3\n").await;
    let cookie = three_chunk_cookie(&s3.provider);
    let r = c
        .get(s3.gw.url("/api/x"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "three chunks are within a limit of three");
    let body = json_body(r).await;
    assert_eq!(
        body["headers"]["authorization"],
        json!([format!("Bearer {PRIMARY}")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chunks_beyond_the_codec_maximum_are_no_session_by_default() {
    let s = Stand::start("").await;
    let mut parts = vec![s.cookie.clone()];
    parts.extend((1..=16).map(|k| format!("{COOKIE}.{k}=x")));
    let r = client()
        .get(s.gw.url("/api/x"))
        .header("cookie", parts.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(clears_cookie(
        &crate::support::set_cookies(&r),
        &format!("{COOKIE}.16")
    ));
    assert_eq!(s.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_header_sent_slowly_is_cut_off_at_the_deadline() {
    let s = Stand::start("limits:\n  client_header_timeout: 1s\n").await;
    let stream = connect(s.port()).await;
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    // One field every 200 ms: no single read ever waits long, the header is never finished.
    let trickle = tokio::spawn(async move {
        let _ = write
            .write_all(b"GET /open/x HTTP/1.1\r\nHost: a\r\n")
            .await;
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write
                .write_all(format!("X-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(4),
        tokio::io::AsyncReadExt::read_to_end(&mut read, &mut buf),
    )
    .await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(closed.is_ok(), "still open after 4 s");
    assert!(
        buf.is_empty(),
        "no answer is sent: {:?}",
        buf.escape_ascii()
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed early: {elapsed:?}"
    );
    assert_eq!(s.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_kept_alive_connection_is_closed_at_the_deadline() {
    let s = Stand::start("limits:\n  client_header_timeout: 1s\n").await;
    let mut stream = connect(s.port()).await;
    let get = format!(
        "GET /open/x HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        s.port()
    );
    for _ in 0..2 {
        stream.write_all(get.as_bytes()).await.expect("send");
        assert_eq!(read_one(&mut stream).await.status, 200, "kept alive");
    }
    let idle_since = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(4)).await);
    assert!(idle_since.elapsed() >= Duration::from_millis(900));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_ends_at_the_body_timeout() {
    let s = Stand::start("limits:\n  client_body_timeout: 1s\n").await;
    let mut stream = connect(s.port()).await;
    let head = format!(
        "POST /open/x HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 100\r\n\r\nonly ten..",
        s.port()
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.expect("send");
    let answer = crate::wire::read_answer(&mut stream).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "ended early: {elapsed:?}"
    );
    // The echo upstream answers without reading the body; the gateway still ends the exchange
    // when the body stalls (pingora's default would wait 60 s).
    assert!(answer.as_ref().is_none_or(|r| r.status < 500), "{answer:?}");
}

/// A TCP server that accepts connections and never answers.
async fn silent_upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_upstream_times_out() {
    let (url, silent) = silent_upstream().await;
    let slow = route("slow", "/slow", &url, &["auth: none"]);
    let s = Stand::with_routes("limits:\n  upstream_read_timeout: 1s\n", &[slow]).await;
    let started = Instant::now();
    let r = s.raw_get("/slow/x", &[]).await;
    let elapsed = started.elapsed();
    silent.abort();
    assert_eq!(r.status, 504);
    assert_eq!(r.body, r#"{"error":"upstream_timeout"}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "ended early: {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_endpoint_answers_are_read_up_to_64_kib() {
    let svc = |up: &str| route("svc", "/svc", up, &["audience: https://svc.example"]);
    let up = crate::support::EchoUpstream::start().await;
    let s = Stand::with_routes("", &[svc(&up.url())]).await;
    let answer = |pad: usize| {
        Fault::Json(json!({
            "access_token": "svc-token",
            "token_type": "Bearer",
            "expires_in": 3600,
            "pad": "p".repeat(pad),
        }))
    };
    let c = client();
    s.provider.set_fault(answer(100 * 1024));
    let r = c
        .get(s.gw.url("/svc/x"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        json_body(r).await,
        json!({"error": "token_endpoint_invalid_response"})
    );
    assert_eq!(up.count(), 0);

    s.provider.set_fault(answer(1024));
    let r = c
        .get(s.gw.url("/svc/x"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        json_body(r).await["headers"]["authorization"],
        json!(["Bearer svc-token"])
    );
}
