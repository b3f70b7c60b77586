//! What a client may not say about itself (docs/reference.md#proxying-a-request): identity
//! headers that upstreams trust never reach them, on any route kind; forwarding headers are the
//! gateway's unless the peer is in `server.trusted_proxies`; a `Connection` header nominating
//! one of them is refused before any upstream connection is opened.

use crate::framing::{recording_upstream, Recording};
use crate::support::route;
use crate::wire::exchange;
use crate::Stand;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

const IDENTITY: [(&str, &str); 11] = [
    ("X-Forwarded-User", "admin"),
    ("X-Forwarded-Email", "admin@example.com"),
    ("X-Forwarded-Groups", "admins"),
    ("X-Forwarded-Preferred-Username", "admin"),
    ("X-Forwarded-Access-Token", "forged"),
    ("X-Auth-Request-User", "admin"),
    ("X-Auth-Request-Email", "admin@example.com"),
    ("X-Id-Token", "forged"),
    ("Remote-User", "admin"),
    ("X-Remote-User", "admin"),
    ("X-Tokengate-Assertion", "forged"),
];

const FORWARDING: [(&str, &str); 7] = [
    ("X-Forwarded-For", "198.51.100.1"),
    ("Forwarded", "for=198.51.100.1;proto=https"),
    ("X-Real-IP", "198.51.100.1"),
    ("True-Client-IP", "198.51.100.1"),
    ("X-Client-IP", "198.51.100.1"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Host", "evil.example"),
];

/// The headers the upstream received for `GET target` with `extra` headers.
async fn upstream_headers(s: &Stand, target: &str, extra: &[(&str, &str)]) -> Value {
    let r = s.raw_get(target, extra).await;
    assert_eq!(r.status, 200, "{target}: {}", r.body);
    r.json()["headers"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_and_forwarding_headers_from_a_client_never_reach_the_upstream() {
    let s = Stand::start("").await;
    let cookie = s.cookie.clone();
    let mut sent: Vec<(&str, &str)> = IDENTITY.to_vec();
    sent.extend(FORWARDING);
    let with_session = [sent.clone(), vec![("Cookie", cookie.as_str())]].concat();
    for (target, fields) in [
        ("/open/x", &sent),
        ("/opt/x", &sent),
        ("/opt/x", &with_session),
        ("/api/x", &with_session),
    ] {
        let h = upstream_headers(&s, target, fields).await;
        for (name, _) in IDENTITY {
            let name = name.to_ascii_lowercase();
            assert!(
                h.get(&name).is_none(),
                "{target}: {name} reached the upstream"
            );
        }
        for name in ["forwarded", "x-real-ip", "true-client-ip", "x-client-ip"] {
            assert!(
                h.get(name).is_none(),
                "{target}: {name} reached the upstream"
            );
        }
        assert_eq!(
            h["x-forwarded-for"],
            json!(["127.0.0.1"]),
            "{target}: replaced"
        );
        assert_eq!(h["x-forwarded-proto"], json!(["http"]), "{target}");
        let host = format!("127.0.0.1:{}", s.port());
        assert_eq!(h["x-forwarded-host"], json!([host]), "{target}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_proxy_s_forwarding_headers_stand_and_identity_headers_still_go() {
    let s = Stand::with_server_lines("", &[], &["trusted_proxies: [\"127.0.0.0/8\"]"]).await;
    let mut sent: Vec<(&str, &str)> = IDENTITY.to_vec();
    sent.extend(FORWARDING);
    let h = upstream_headers(&s, "/open/x", &sent).await;
    for (name, _) in IDENTITY {
        assert!(h.get(name.to_ascii_lowercase()).is_none(), "{name}");
    }
    assert_eq!(h["x-forwarded-for"], json!(["198.51.100.1, 127.0.0.1"]));
    assert_eq!(h["forwarded"], json!(["for=198.51.100.1;proto=https"]));
    assert_eq!(h["x-real-ip"], json!(["198.51.100.1"]));
    assert_eq!(h["x-forwarded-proto"], json!(["https"]));
    assert_eq!(h["x-forwarded-host"], json!(["evil.example"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_nominating_a_gateway_header_is_400_before_any_upstream_connection() {
    let Recording { url, accepted, .. } = recording_upstream().await;
    let s = Stand::with_routes("", &[route("rec", "/rec", &url, &["auth: none"])]).await;
    let host = format!("127.0.0.1:{}", s.port());
    for nominated in [
        "x-forwarded-for",
        "X-Forwarded-Host",
        "authorization",
        "x-forwarded-user",
    ] {
        let raw = format!(
            "GET /rec/x HTTP/1.1\r\nHost: {host}\r\nConnection: close, {nominated}\r\n\r\n"
        );
        let r = exchange(s.port(), raw.as_bytes()).await.expect("an answer");
        assert_eq!(r.status, 400, "{nominated}");
        assert!(
            !accepted.load(Ordering::SeqCst),
            "the upstream saw a connection"
        );
        assert_eq!(
            r.json(),
            json!({"error": "bad_request", "detail": "connection_nominates_gateway_header"})
        );
    }
    // The upstream's accept, had there been a connect, would have run by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !accepted.load(Ordering::SeqCst),
        "the upstream saw a connection"
    );
}
