//! Routing and forwarding at the edge (docs/reference.md#routes for matching,
//! docs/reference.md#proxying-a-request for forwarding): which upstream a request reaches, with
//! which path, and which headers the upstream sees.

mod support;

#[path = "proxy/tls_listener.rs"]
mod tls_listener;
#[path = "proxy/tls_support.rs"]
mod tls_support;
#[path = "proxy/tls_upstream.rs"]
mod tls_upstream;

use serde_json::{json, Value};
use support::*;

/// The values the upstream saw for header `name` (from the echo body).
fn seen(body: &Value, name: &str) -> Vec<String> {
    body["headers"][name]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn longest_prefix_wins() {
    let provider = MockProvider::start().await;
    let api = EchoUpstream::named("api").await;
    let orders = EchoUpstream::named("orders").await;
    let routes = route("api", "/api", &api.url(), &["auth: none"])
        + &route("orders", "/api/orders", &orders.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    let r = c.get(gw.url("/api/orders/7?x=1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(body["upstream"], "orders");
    assert_eq!(body["path"], "/api/orders/7?x=1");

    let r = c.get(gw.url("/api/customers")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await["upstream"], "api");
    assert_eq!((api.count(), orders.count()), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_match_is_segment_aware() {
    let provider = MockProvider::start().await;
    let orders = EchoUpstream::start().await;
    let routes = route("orders", "/api/orders", &orders.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    let r = c.get(gw.url("/api/ordersx")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(json_body(r).await, json!({"error": "no_route"}));
    let r = c.get(gw.url("/elsewhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(json_body(r).await, json!({"error": "no_route"}));
    assert_eq!(orders.count(), 0);

    for path in ["/api/orders", "/api/orders/", "/api/orders/x"] {
        let r = c.get(gw.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(json_body(r).await["path"], path);
    }
    assert_eq!(orders.count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_route_beats_hostless_route() {
    let provider = MockProvider::start().await;
    let plain = EchoUpstream::named("plain").await;
    let hosted = EchoUpstream::named("hosted").await;
    // Same prefix, host-less route listed first: the host match alone must decide.
    let routes = route("plain", "/api", &plain.url(), &["auth: none"])
        + &route(
            "hosted",
            "/api",
            &hosted.url(),
            &["auth: none", "host: api.internal"],
        );
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    let r = c
        .get(gw.url("/api/x"))
        .header("host", "api.internal")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await["upstream"], "hosted");

    let r = c.get(gw.url("/api/x")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await["upstream"], "plain");
    assert_eq!((plain.count(), hosted.count()), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn strip_prefix_removes_the_route_prefix() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route(
        "orders",
        "/api/orders",
        &up.url(),
        &["auth: none", "strip_prefix: true"],
    );
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    let r = c.get(gw.url("/api/orders/x/y?q=1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await["path"], "/x/y?q=1");
    let r = c.get(gw.url("/api/orders")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json_body(r).await["path"], "/");
}

#[tokio::test(flavor = "multi_thread")]
async fn dot_segments_cannot_escape_a_route() {
    let provider = MockProvider::start().await;
    let orders = EchoUpstream::named("orders").await;
    let admin = EchoUpstream::named("admin").await;
    let routes = route("orders", "/api/orders", &orders.url(), &["auth: none"])
        + &route("admin", "/api/admin", &admin.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));

    for target in [
        "/api/orders/../admin/users",
        "/api/orders/%2e%2e/admin/users",
        "/api/orders/./../admin/users",
    ] {
        let r = raw::get(gw.port(), target, &[]).await;
        assert_eq!(r.status, 200, "{target}: {r:?}");
        let body = r.json();
        assert_eq!(body["upstream"], "admin", "{target}");
        assert_eq!(body["path"], "/api/admin/users", "{target}");
    }
    assert_eq!(orders.count(), 0, "the orders upstream saw an escaped path");

    // Percent-encoded unreserved characters are decoded before matching and forwarding.
    let r = raw::get(gw.port(), "/api/%6Frders/1", &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert_eq!(body["upstream"], "orders");
    assert_eq!(body["path"], "/api/orders/1");
}

#[tokio::test(flavor = "multi_thread")]
async fn encoded_slash_and_bad_percent_encoding_are_bad_path() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("api", "/api", &up.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));

    for target in ["/api/a%2Fb", "/api/a%2fb", "/api/%zz", "/api/a%2"] {
        let r = raw::get(gw.port(), target, &[]).await;
        assert_eq!(r.status, 400, "{target}: {r:?}");
        assert_eq!(r.json(), json!({"error": "bad_path"}), "{target}");
    }
    assert_eq!(up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_paths_are_never_proxied() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("all", "/", &up.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    for path in ["/auth/whatever", "/auth/session", "/auth/x/y"] {
        let r = c.get(gw.url(path)).send().await.unwrap();
        assert!(r.headers().get("x-echo").is_none(), "{path} was proxied");
    }
    assert_eq!(up.count(), 0);
    // The catch-all route itself works.
    let r = c.get(gw.url("/authx")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_none_forwards_without_authorization() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("public", "/public", &up.url(), &["auth: none"]);
    let gw = Gateway::start(&config(&provider, &routes));

    let r = client()
        .post(gw.url("/public/hook"))
        .header("authorization", "Bearer client-supplied")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(body["method"], "POST");
    assert_eq!(seen(&body, "authorization"), Vec::<String>::new());
    assert_eq!(provider.call_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_required_without_cookie_is_401() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("orders", "/api/orders", &up.url(), &["auth: required"]);
    let gw = Gateway::start(&config(&provider, &routes));

    let r = client().get(gw.url("/api/orders")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let www = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(www.starts_with("Bearer"), "WWW-Authenticate: {www:?}");
    assert_eq!(json_body(r).await, json!({"error": "unauthenticated"}));
    assert_eq!(up.count(), 0);
    assert_eq!(provider.call_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_optional_with_and_without_session() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("feed", "/feed", &up.url(), &["auth: optional"]);
    let gw = Gateway::start(&config(&provider, &routes));
    let c = client();

    let r = c.get(gw.url("/feed")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(seen(&body, "authorization"), Vec::<String>::new());

    let session = session_for(&provider.mint_refresh_token(), "primary-token-opt");
    let r = c
        .get(gw.url("/feed"))
        .header("cookie", cookie_for(&session))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(
        seen(&body, "authorization"),
        vec!["Bearer primary-token-opt"]
    );
    assert_eq!(provider.call_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_primary_token_is_injected_and_cookie_stripped() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route("orders", "/api/orders", &up.url(), &[]);
    let gw = Gateway::start(&config(&provider, &routes));

    let session = session_for(&provider.mint_refresh_token(), "primary-token-1");
    let cookie = format!("theme=dark; {}; lang=en", cookie_for(&session));
    let r = client()
        .get(gw.url("/api/orders/1"))
        .header("cookie", cookie)
        .header("authorization", "Bearer forged-by-client")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        set_cookies(&r).is_empty(),
        "cache hit must not set a cookie: {:?}",
        set_cookies(&r)
    );
    assert_eq!(
        r.headers().get("x-echo").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body = json_body(r).await;
    assert_eq!(seen(&body, "authorization"), vec!["Bearer primary-token-1"]);
    let cookies = seen(&body, "cookie").join("; ");
    assert!(cookies.contains("theme=dark"), "cookies: {cookies}");
    assert!(cookies.contains("lang=en"), "cookies: {cookies}");
    assert!(
        !cookies.contains("tokengate"),
        "session cookie leaked: {cookies}"
    );
    let xff = seen(&body, "x-forwarded-for").join(",");
    assert!(xff.contains("127.0.0.1"), "X-Forwarded-For: {xff}");
    assert_eq!(seen(&body, "x-forwarded-proto"), vec!["http"]);
    assert_eq!(
        seen(&body, "x-forwarded-host"),
        vec![format!("127.0.0.1:{}", gw.port())]
    );
    assert_eq!(provider.call_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn big_chunked_session_works() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route(
        "svc3",
        "/svc3",
        &up.url(),
        &["audience: https://svc3.example"],
    );
    let gw = Gateway::start(&config(&provider, &routes));

    let mut session = session_for(&provider.mint_refresh_token(), "primary-token-big");
    let exp = tokengate::session::model::now() + 3600;
    for i in 0..4 {
        let token = format!("svc{i}-{}", "t".repeat(1500));
        let aud = format!("https://svc{i}.example");
        session.extra.push(token_set(Some(&aud), "", &token, exp));
    }
    let cookie = cookie_for(&session);
    assert!(
        cookie.len() > 4000,
        "session not big enough: {}",
        cookie.len()
    );
    assert!(
        cookie.contains("tokengate.1="),
        "expected chunks: {}",
        &cookie[..40]
    );

    let r = client()
        .get(gw.url("/svc3/x"))
        .header("cookie", format!("{cookie}; other=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(set_cookies(&r).is_empty());
    let body = json_body(r).await;
    assert_eq!(
        seen(&body, "authorization"),
        vec![format!("Bearer svc3-{}", "t".repeat(1500))]
    );
    assert_eq!(seen(&body, "cookie"), vec!["other=1"]);
    assert_eq!(provider.call_count(), 0);
}
