//! HTTP/1.1 edge cases on the wire: message framing and `Host` (RFC 9112 §3.2, §6), paths that try
//! to leave their route (docs/reference.md#routes), and `returnTo` values that try to leave the
//! origin or split the response (docs/reference.md#gateway-endpoints). Answers marked "pingora"
//! come from pingora 0.9 before any of our code runs; the others from `pipeline::screen` (with
//! `http::framing`), `path` and the login endpoint.

use crate::support::{COOKIE, TEST_KEY};
use crate::wire::exchange;
use crate::Stand;
use serde_json::json;
use tokengate::oidc::transaction::transaction_purpose;
use tokengate::session::codec::KeyRing;

/// A request: `lines` (request line and fields) then the empty line, then `body`.
fn request(lines: &[&str], body: &str) -> Vec<u8> {
    format!("{}\r\n\r\n{body}", lines.join("\r\n")).into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn content_length_with_transfer_encoding_is_400_and_nothing_is_smuggled() {
    let s = Stand::start("").await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    // The classic smuggling shape: a front end that framed by Content-Length would see one
    // request, one that framed by chunks would see a second, `GET /api/x`, in the body.
    let smuggled = format!("GET /api/x HTTP/1.1\r\n{host}\r\n\r\n");
    for (first, second) in [
        ("Content-Length: 5", "Transfer-Encoding: chunked"),
        ("transfer-encoding: chunked", "content-length: 5"),
    ] {
        let raw = request(
            &["POST /open/x HTTP/1.1", &host, first, second],
            &format!("0\r\n\r\n{smuggled}"),
        );
        let mut stream = crate::wire::connect(s.port()).await;
        tokio::io::AsyncWriteExt::write_all(&mut stream, &raw)
            .await
            .expect("send");
        let r = crate::wire::read_answer(&mut stream)
            .await
            .expect("an answer");
        assert_eq!(r.status, 400, "{first} + {second}");
        assert_eq!(
            r.json(),
            json!({"error": "bad_request", "detail": "conflicting_framing"})
        );
        assert!(
            !r.body.contains("HTTP/1.1"),
            "a second response: {:?}",
            r.body
        );
    }
    assert_eq!(s.up.count(), 0, "neither request reached the upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_framing_is_refused_by_pingora() {
    let s = Stand::start("").await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    let cases: [(&str, Vec<&str>); 4] = [
        (
            "differing lengths",
            vec!["Content-Length: 3", "Content-Length: 4"],
        ),
        ("non-chunked final coding", vec!["Transfer-Encoding: gzip"]),
        ("length list", vec!["Content-Length: 3, 4"]),
        ("negative length", vec!["Content-Length: -1"]),
    ];
    for (what, fields) in cases {
        let mut lines = vec!["POST /open/x HTTP/1.1", host.as_str()];
        lines.extend(fields);
        let r = exchange(s.port(), &request(&lines, "abcd")).await;
        assert_eq!(r.map(|r| r.status), Some(400), "{what}");
    }
    let http10_chunked = request(
        &["POST /open/x HTTP/1.0", &host, "Transfer-Encoding: chunked"],
        "0\r\n\r\n",
    );
    let r = exchange(s.port(), &http10_chunked).await;
    assert_eq!(r.map(|r| r.status), Some(400), "HTTP/1.0 with chunks");
    assert_eq!(s.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_rules() {
    let s = Stand::start("").await;
    let port = s.port();
    let host = format!("Host: 127.0.0.1:{port}");
    let answer = |lines: Vec<String>| {
        let raw = request(&lines.iter().map(String::as_str).collect::<Vec<_>>(), "");
        async move { exchange(port, &raw).await.expect("an answer") }
    };
    let line = |s: &str| s.to_owned();

    // Ours (RFC 9112 §3.2): HTTP/1.1 needs one valid Host; HTTP/1.0 may omit it.
    let r = answer(vec![
        line("GET /open/x HTTP/1.1"),
        line("Connection: close"),
    ])
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": "bad_request", "detail": "missing_host"})
    );
    for bad in ["Host: a b", "Host: 127.0.0.1:port", "Host: a/b"] {
        let r = answer(vec![line("GET /open/x HTTP/1.1"), line(bad)]).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.json(),
            json!({"error": "bad_request", "detail": "invalid_host"})
        );
    }
    let r = answer(vec![line("GET /open/x HTTP/1.0")]).await;
    assert_eq!(r.status, 200, "HTTP/1.0 without Host");

    // pingora: two Host fields, userinfo, an absolute-form target naming another authority.
    let two = vec![
        line("GET /open/x HTTP/1.1"),
        host.clone(),
        line("Host: evil.example"),
    ];
    assert_eq!(answer(two).await.status, 400);
    let userinfo = vec![
        line("GET /open/x HTTP/1.1"),
        line("Host: user@evil.example"),
    ];
    assert_eq!(answer(userinfo).await.status, 400);
    let absolute = vec![
        line("GET http://evil.example/open/x HTTP/1.1"),
        host.clone(),
    ];
    assert_eq!(answer(absolute).await.status, 400);
    assert_eq!(s.up.count(), 1, "only the HTTP/1.0 request was forwarded");

    // An absolute-form target that agrees with Host is served like origin-form.
    let same = vec![
        format!("GET http://127.0.0.1:{port}/open/x HTTP/1.1"),
        host.clone(),
        line("Connection: close"),
    ];
    let r = answer(same).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["path"], "/open/x");
}

#[tokio::test(flavor = "multi_thread")]
async fn heads_beyond_pingora_limits_are_400() {
    let s = Stand::start("").await;
    let host = format!("Host: 127.0.0.1:{}", s.port());
    let huge = format!("X-Big: {}", "b".repeat(1024 * 1024 + 16));
    let r = exchange(
        s.port(),
        &request(&["GET /open/x HTTP/1.1", &host, &huge], ""),
    )
    .await;
    assert_eq!(r.map(|r| r.status), Some(400), "over 1 MiB");
    let many: Vec<String> = (0..300).map(|i| format!("X-F{i}: 1")).collect();
    let mut lines = vec!["GET /open/x HTTP/1.1", host.as_str()];
    lines.extend(many.iter().map(String::as_str));
    let r = exchange(s.port(), &request(&lines, "")).await;
    assert_eq!(r.map(|r| r.status), Some(400), "300 fields");
    assert_eq!(s.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn encoded_separators_and_broken_escapes_are_bad_path() {
    let s = Stand::start("").await;
    for target in [
        "/open/a%2Fb",
        "/open/a%2fb",
        "/open/a%5Cb",
        "/open/a%5cb",
        "/open/..%2F..%2Fapi",
        "/open/%",
        "/open/%2",
        "/open/%zz",
        "/open/%%32%46",
    ] {
        let r = s.raw_get(target, &[]).await;
        assert_eq!(r.status, 400, "{target}");
        assert_eq!(r.json(), json!({"error": "bad_path"}), "{target}");
    }
    assert_eq!(s.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn dot_segments_never_skip_authentication_or_reach_the_gateway_paths() {
    let s = Stand::start("").await;
    // Each one is the `auth: required` route once normalised: refused without a session.
    for target in [
        "/open/../api/x",
        "/open/%2e%2e/api/x",
        "/open/.%2E/api/x",
        "/open/./../api/x",
        "/../../api/x",
        "/open/x/../../api/%2e/x",
    ] {
        let r = s.raw_get(target, &[]).await;
        assert_eq!(r.status, 401, "{target}");
        assert_eq!(r.json(), json!({"error": "unauthenticated"}), "{target}");
    }
    // `/auth` paths are the gateway's, however they are spelled.
    let r = s.raw_get("/open/../auth/session", &[]).await;
    assert_eq!((r.status, r.json()), (401, json!({"authenticated": false})));
    let r = s.raw_get("/open/%2e%2e/auth/session", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(s.up.count(), 0, "nothing reached the upstream");

    // The upstream sees the normalised path, never the dot-segments.
    let r = s.raw_get("/api/../open/%7Ex/./y/..", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["path"], "/open/~x/");
    assert!(r.json()["headers"].get("authorization").is_none());
}

/// The `returnTo` a login transaction cookie carries, opened with the test key.
fn sealed_return_to(r: &crate::support::raw::RawResponse) -> String {
    let prefix = format!("{COOKIE}-tx.");
    let value = r
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .find_map(|(_, v)| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            name.starts_with(&prefix).then(|| value.to_owned())
        })
        .expect("a transaction cookie");
    let ring = KeyRing::new(&[TEST_KEY]).expect("key ring");
    let plain = ring
        .open(&transaction_purpose(COOKIE), &value)
        .expect("the transaction opens");
    let tx: serde_json::Value = serde_json::from_slice(&plain).expect("JSON transaction");
    tx["return_to"].as_str().expect("return_to").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn return_to_never_leaves_the_origin_nor_splits_the_response() {
    let s = Stand::start("").await;
    let cases = [
        ("%2Fok%0D%0ASet-Cookie:%20evil=1", "/"),
        ("%2Fok%0ALocation:%20https://evil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("%2F%09%2Fevil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("%2Fdocs%3Fa%3D1%23top", "/docs?a=1#top"),
        ("%2Fcaf%C3%A9%20menu", "/caf%C3%A9%20menu"),
    ];
    for (query, expected) in cases {
        let r = s
            .raw_get(&format!("/auth/login?returnTo={query}"), &[])
            .await;
        assert_eq!(r.status, 302, "{query}");
        assert!(
            r.headers
                .iter()
                .all(|(k, v)| !v.contains("evil=1") && k != "evil"),
            "{query}: {:?}",
            r.headers
        );
        let location = r.header("location").expect("a Location");
        assert!(location.starts_with(&s.provider.issuer()), "{location}");
        assert_eq!(sealed_return_to(&r), expected, "{query}");
    }
}
