//! One session, many parallel requests (docs/reference.md#concurrency-and-rotation): the browser
//! sends the same cookie on parallel requests and learns about a rotated refresh token only when a
//! response reaches it. The gateway must never present a refresh token twice, must share one
//! exchange among requests that need the same token, and must not lose tokens that concurrent
//! requests added.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::provider::jwt_claims;
use support::*;

const ORDERS_AUD: &str = "https://orders.example";
const REPORTS_AUD: &str = "https://reports.example";

async fn setup() -> (MockProvider, EchoUpstream, Gateway, String, String) {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route(
        "orders",
        "/api/orders",
        &up.url(),
        &[
            &format!("audience: \"{ORDERS_AUD}\""),
            "scope: \"read:orders\"",
        ],
    ) + &route(
        "reports",
        "/api/reports",
        &up.url(),
        &[
            &format!("audience: \"{REPORTS_AUD}\""),
            "scope: \"read:reports\"",
        ],
    );
    let gw = Gateway::start(&config(&provider, &routes));
    let rt = provider.mint_refresh_token();
    let cookie = cookie_for(&session_for(&rt, "primary-token"));
    (provider, up, gw, rt, cookie)
}

/// GET `path` with `cookie`: status, the forwarded Bearer token, the Set-Cookie values and when
/// the response arrived.
async fn get(gw: &Gateway, path: &str, cookie: &str) -> (u16, String, Vec<String>, Instant) {
    let r = client()
        .get(gw.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let sc = set_cookies(&r);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
    let token = body["headers"]["authorization"][0]
        .as_str()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    (status, token, sc, Instant::now())
}

fn audiences(session: &tokengate::session::model::Session) -> Vec<String> {
    let mut a: Vec<String> = session
        .extra
        .iter()
        .filter_map(|t| t.audience.clone())
        .collect();
    a.sort();
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_requests_share_one_exchange() {
    let (provider, up, gw, _rt, cookie) = setup().await;
    provider.set_fault(Fault::Latency(Duration::from_millis(300)));
    let results =
        futures_util::future::join_all((0..6).map(|_| get(&gw, "/api/orders", &cookie))).await;
    let first = &results[0].1;
    for (status, token, _, _) in &results {
        assert_eq!(*status, 200);
        assert_eq!(token, first, "requests were served different tokens");
    }
    assert_eq!(jwt_claims(first).unwrap()["aud"], ORDERS_AUD);
    assert_eq!(provider.call_count(), 1, "the exchange was not shared");
    assert_eq!(provider.reuse_detected(), 0);
    assert_eq!(up.count(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_requests_for_two_audiences_keep_both_tokens() {
    let (provider, _up, gw, rt, cookie) = setup().await;
    provider.set_fault(Fault::Latency(Duration::from_millis(300)));
    let (a, b) = tokio::join!(
        get(&gw, "/api/orders", &cookie),
        get(&gw, "/api/reports", &cookie)
    );
    assert_eq!((a.0, b.0), (200, 200));
    let calls = provider.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].field("refresh_token"), Some(rt.as_str()));
    assert_ne!(
        calls[1].field("refresh_token"),
        Some(rt.as_str()),
        "the same refresh token was presented twice"
    );
    assert_eq!(provider.reuse_detected(), 0);

    // The response that arrived last carries everything both requests added.
    let last = if a.3 > b.3 { &a.2 } else { &b.2 };
    let session = open_set_cookies(last).expect("last response writes the session");
    assert_eq!(audiences(&session), vec![ORDERS_AUD, REPORTS_AUD]);

    provider.clear_fault();
    let cookie2 = cookie_header_from(last);
    assert_eq!(get(&gw, "/api/orders", &cookie2).await.0, 200);
    assert_eq!(get(&gw, "/api/reports", &cookie2).await.0, 200);
    assert_eq!(
        provider.call_count(),
        2,
        "a token added in parallel was lost"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_cookie_is_served_with_the_latest_state() {
    let (provider, _up, gw, rt, cookie0) = setup().await;
    let (status, orders_token, sc1, _) = get(&gw, "/api/orders", &cookie0).await;
    assert_eq!(status, 200);
    let rt1 = open_set_cookies(&sc1)
        .and_then(|s| s.refresh_token)
        .expect("rotated refresh token written");
    assert_ne!(rt1, rt);

    // The browser had not yet stored the new cookie and sends the old one.
    let (status, _, sc2, _) = get(&gw, "/api/reports", &cookie0).await;
    assert_eq!(status, 200);
    let calls = provider.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].field("refresh_token"), Some(rt1.as_str()));
    assert_eq!(provider.reuse_detected(), 0);
    let session = open_set_cookies(&sc2).expect("newer cookie sent to the stale client");
    assert_eq!(audiences(&session), vec![ORDERS_AUD, REPORTS_AUD]);

    // The old cookie still gets the token the newer state holds, without an exchange.
    let (status, token, sc3, _) = get(&gw, "/api/orders", &cookie0).await;
    assert_eq!(status, 200);
    assert_eq!(token, orders_token);
    assert_eq!(provider.call_count(), 2);
    let session = open_set_cookies(&sc3).expect("the stale client gets the newer cookie");
    assert_eq!(audiences(&session), vec![ORDERS_AUD, REPORTS_AUD]);
}

/// A response that carries the session's `Set-Cookie` (here after a token exchange) is
/// `private, no-store`, whatever the upstream allowed, keeping its stricter directives; one
/// without the cookie keeps the upstream's `Cache-Control`.
#[tokio::test(flavor = "multi_thread")]
async fn a_response_carrying_the_session_is_never_cacheable() {
    let (_provider, _up, gw, _rt, cookie) = setup().await;
    let r = client()
        .get(gw.url("/api/orders/x?cache=public"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    assert!(!sc.is_empty(), "the exchange wrote the cookie");
    assert_eq!(
        r.headers()["cache-control"],
        "private, no-store, no-transform"
    );
    let r = client()
        .get(gw.url("/api/orders/x?cache=public"))
        .header("cookie", cookie_header_from(&sc))
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&r).is_empty());
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=600, no-transform"
    );
}
