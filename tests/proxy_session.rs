//! The session at the edge (docs/reference.md#proxying-a-request): unusable cookies are a clean 401
//! that clears the cookie, cross-site unsafe requests are refused, and WebSocket upgrades carry the
//! Bearer token like any request.

mod support;

#[path = "proxy_session/access.rs"]
mod access;
#[path = "proxy_session/cookie_limits.rs"]
mod cookie_limits;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn authorization(body: &Value) -> Vec<String> {
    body["headers"]["authorization"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A gateway with one `auth: required` route at `/api` (plus `extra` lines on it) and one
/// `auth: none`, `csrf: false` webhook route at `/hooks`.
async fn setup(extra: &[&str]) -> (MockProvider, EchoUpstream, Gateway) {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("api", "/api", &up.url(), extra)
        + &route("hooks", "/hooks", &up.url(), &["auth: none", "csrf: false"]);
    let gw = Gateway::start(&config(&provider, &routes));
    (provider, up, gw)
}

/// The sealed value of a one-chunk session cookie (without `NAME=`).
fn sealed_value(session: &tokengate::session::model::Session) -> String {
    let c = cookie_for(session);
    c.strip_prefix(&format!("{COOKIE}="))
        .expect("single-chunk cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_cookies_are_401_and_cleared() {
    let (provider, up, gw) = setup(&[]).await;
    let session = session_for(&provider.mint_refresh_token(), "primary-token-bad");
    let good = sealed_value(&session);

    // One byte changed in the middle of the ciphertext.
    let mut tampered: Vec<u8> = good.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let truncated = good[..good.len() / 2].to_owned();
    let foreign = mint_cookie(&[9u8; 32], COOKIE, &session);
    // 17 chunks: one more than the codec reads, within limits.max_cookie_bytes (a larger Cookie
    // header is 431, tests/hostile/limits.rs).
    let oversized = format!("{COOKIE}={}", "A".repeat(3990))
        + &(1..17)
            .map(|k| format!("; {COOKIE}.{k}={}", "A".repeat(3990)))
            .collect::<String>();
    let mut expired = session.clone();
    expired.created_at = 1_000;
    expired.last_seen = 1_000;
    let cases: Vec<(&str, String)> = vec![
        ("tampered", format!("{COOKIE}={tampered}")),
        ("truncated", format!("{COOKIE}={truncated}")),
        ("foreign key", foreign),
        ("garbage", format!("{COOKIE}=not-a-session!!")),
        ("empty", format!("{COOKIE}=")),
        (
            "base64 junk",
            format!("{COOKIE}={}", URL_SAFE_NO_PAD.encode([1u8; 200])),
        ),
        ("oversized", oversized),
        ("past absolute lifetime", cookie_for(&expired)),
    ];
    let c = client();
    for (what, cookie) in cases {
        let r = c
            .get(gw.url("/api/x"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{what}");
        let sc = set_cookies(&r);
        assert!(
            clears_cookie(&sc, COOKIE),
            "{what}: cookie not cleared: {sc:?}"
        );
        assert_eq!(
            json_body(r).await,
            json!({"error": "unauthenticated"}),
            "{what}"
        );
    }
    assert_eq!(up.count(), 0);
    assert_eq!(provider.call_count(), 0);
    // The gateway is still healthy with the genuine cookie.
    let r = c
        .get(gw.url("/api/x"))
        .header("cookie", format!("{COOKIE}={good}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn csrf_refuses_unsafe_requests_without_same_origin_proof() {
    let (provider, up, gw) = setup(&[]).await;
    let session = session_for(&provider.mint_refresh_token(), "primary-token-csrf");
    let cookie = cookie_for(&session);
    let c = client();
    let post = |path: &str| {
        c.post(gw.url(path))
            .header("cookie", cookie.clone())
            .body("{}")
    };

    let refused: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no origin", post("/api/x")),
        (
            "foreign origin",
            post("/api/x").header("origin", "http://evil.example"),
        ),
        (
            "origin differs by port",
            post("/api/x").header("origin", "http://127.0.0.1:1"),
        ),
        (
            "cross-site fetch",
            post("/api/x").header("sec-fetch-site", "cross-site"),
        ),
        ("X-CSRF: 0", post("/api/x").header("x-csrf", "0")),
        (
            "DELETE without origin",
            c.delete(gw.url("/api/x")).header("cookie", cookie.clone()),
        ),
    ];
    for (what, req) in refused {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        assert_eq!(json_body(r).await, json!({"error": "csrf"}), "{what}");
    }
    assert_eq!(up.count(), 0, "a refused request reached the upstream");

    let passed: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "public origin",
            post("/api/x").header("origin", gw.origin()),
        ),
        (
            "same-origin fetch",
            post("/api/x").header("sec-fetch-site", "same-origin"),
        ),
        ("X-CSRF: 1", post("/api/x").header("x-csrf", "1")),
        (
            "GET",
            c.get(gw.url("/api/x")).header("cookie", cookie.clone()),
        ),
    ];
    for (what, req) in passed {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{what}");
        let body = json_body(r).await;
        assert_eq!(
            authorization(&body),
            vec!["Bearer primary-token-csrf"],
            "{what}"
        );
    }
    // The webhook route takes a cross-site POST; it reads no session, so it sends no token.
    let r = post("/hooks/x").send().await.unwrap();
    assert_eq!(r.status(), 200, "csrf: false route");
    assert!(authorization(&json_body(r).await).is_empty());
    assert_eq!(up.count(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn csrf_does_not_apply_without_a_session() {
    let (_provider, up, gw) = setup(&["auth: optional"]).await;
    let r = client()
        .post(gw.url("/api/x"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(authorization(&json_body(r).await), Vec::<String>::new());
    assert_eq!(up.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_upgrade_carries_the_bearer_token() {
    let (provider, up, gw) = setup(&[]).await;
    let session = session_for(&provider.mint_refresh_token(), "primary-token-ws");
    let mut req = format!("ws://127.0.0.1:{}/api/socket", gw.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("keep=me; {}", cookie_for(&session))
            .parse()
            .unwrap(),
    );
    req.headers_mut()
        .insert("origin", gw.origin().parse().unwrap());
    let (mut ws, resp) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect("upgrade within 10 s")
    .expect("WebSocket upgrade through the gateway");
    assert_eq!(resp.status(), 101);

    let first = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .expect("first message within 10 s")
        .expect("a first message")
        .expect("a readable first message");
    let body: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(body["path"], "/api/socket");
    assert_eq!(authorization(&body), vec!["Bearer primary-token-ws"]);
    let cookies = body["headers"]["cookie"].to_string();
    assert!(
        cookies.contains("keep=me") && !cookies.contains(COOKIE),
        "{cookies}"
    );

    ws.send(Message::Text("ping-42".into())).await.unwrap();
    let echoed = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
        .await
        .expect("echo within 10 s")
        .expect("an echo")
        .expect("a readable echo");
    assert_eq!(echoed.to_text().unwrap(), "ping-42");
    assert_eq!(up.count(), 1);
    assert_eq!(provider.call_count(), 0);
}

/// A WebSocket upgrade is a GET, so a page on a sibling subdomain (same-site: the `SameSite=Lax`
/// cookie is sent) could open a socket that gets the user's Bearer token. An upgrade carrying a
/// session must come from the public origin: otherwise, or without `Origin`, `403 csrf`.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_upgrade_from_another_origin_is_refused() {
    let (provider, up, gw) = setup(&[]).await;
    let session = session_for(&provider.mint_refresh_token(), "primary-token-ws");
    for origin in [Some("http://evil.127.0.0.1.nip.io"), None] {
        let mut req = format!("ws://127.0.0.1:{}/api/socket", gw.port())
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("cookie", cookie_for(&session).parse().unwrap());
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        let refused = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .expect("an answer within 10 s");
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 403, "{origin:?}");
                let body: Value =
                    serde_json::from_slice(resp.body().as_deref().unwrap_or_default())
                        .unwrap_or(Value::Null);
                assert_eq!(body, json!({"error": "csrf"}), "{origin:?}");
            }
            Err(e) => panic!("{origin:?}: {e}"),
            Ok(_) => panic!("{origin:?}: the upgrade was accepted"),
        }
    }
    assert_eq!(up.count(), 0, "no upgrade reached the upstream");
}
