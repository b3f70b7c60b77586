//! Every outcome of a token-endpoint exchange (docs/reference.md#token-endpoint-outcomes), provoked
//! with the mock provider: what the client gets, what the upstream sees (or never sees), what the
//! session becomes, and what the gateway sent to the provider.

mod support;

use serde_json::json;
use support::provider::jwt_claims;
use support::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn success_forwards_the_new_token_and_caches_it() {
    let ctx = setup().await;
    let r = get(&ctx, "/api/orders/1", &ctx.cookie).await;
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    let body = json_body(r).await;
    let token = bearer(&body);
    let claims = jwt_claims(&token).expect("a JWT was forwarded");
    assert_eq!(claims["aud"], ORDERS_AUD);
    assert_eq!(claims["scope"], "read:orders");

    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.field("grant_type"), Some("refresh_token"));
    assert_eq!(call.field("refresh_token"), Some(ctx.rt.as_str()));
    assert_eq!(call.field("audience"), Some(ORDERS_AUD));
    assert_eq!(call.field("resource"), None);
    assert_eq!(call.field("scope"), Some("read:orders"));

    let session_cookie = sc
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE}=")))
        .unwrap_or_else(|| panic!("no session Set-Cookie: {sc:?}"));
    let attrs: Vec<String> = session_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for want in ["httponly", "samesite=lax", "path=/"] {
        assert!(
            attrs.iter().any(|a| a == want),
            "{want} missing: {session_cookie}"
        );
    }
    assert!(
        !attrs.iter().any(|a| a == "secure"),
        "Secure on http: {session_cookie}"
    );

    let session = open_set_cookies(&sc).expect("the new cookie opens");
    let rotated = session.refresh_token.clone().expect("refresh token kept");
    assert_ne!(rotated, ctx.rt, "the rotated refresh token must be stored");
    assert!(ctx.provider.is_active(&rotated));
    assert!(session.extra.iter().any(|t| t.access_token == token));

    // The browser sends the new cookie: cache hit, no call, no Set-Cookie.
    let cookie2 = cookie_header_from(&sc);
    let r = get(&ctx, "/api/orders/2", &cookie2).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookies(&r).is_empty(), "{:?}", set_cookies(&r));
    assert_eq!(bearer(&json_body(r).await), token);
    assert_eq!(ctx.provider.call_count(), 1);

    // Another audience: the next exchange presents the rotated token, not the consumed one.
    let r = get(&ctx, "/api/reports", &cookie2).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        jwt_claims(&bearer(&json_body(r).await)).unwrap()["aud"],
        REPORTS_AUD
    );
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].field("refresh_token"), Some(rotated.as_str()));
    assert_eq!(ctx.provider.reuse_detected(), 0);
    assert_eq!(ctx.up.count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_grant_expires_the_session() {
    let ctx = setup().await;
    let cookie = cookie_for(&session_for("rt-revoked-or-unknown", "primary-token"));
    let r = get(&ctx, "/api/orders", &cookie).await;
    assert_eq!(r.status(), 401);
    assert!(
        clears_cookie(&set_cookies(&r), COOKIE),
        "{:?}",
        set_cookies(&r)
    );
    assert_eq!(json_body(r).await, json!({"error": "session_expired"}));
    assert_eq!(ctx.provider.call_count(), 1);
    assert_eq!(ctx.up.count(), 0);
}

/// The provider is unavailable: 503 with `Retry-After`, session unchanged, nothing forwarded; the
/// same cookie works once the provider recovers.
async fn assert_unavailable(ctx: &Ctx) {
    let started = std::time::Instant::now();
    let r = get(ctx, "/api/orders", &ctx.cookie).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "timeout not enforced"
    );
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some(), "no Retry-After");
    assert!(
        set_cookies(&r).is_empty(),
        "session changed: {:?}",
        set_cookies(&r)
    );
    assert_eq!(
        json_body(r).await,
        json!({"error": "token_endpoint_unavailable"})
    );
    assert_eq!(ctx.up.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_5xx_429_and_timeout_are_503() {
    let ctx = setup().await;
    for fault in [
        Fault::Status(500, r#"{"error":"server_error"}"#.into()),
        Fault::Status(502, "Bad Gateway".into()),
        Fault::Status(429, r#"{"error":"too_many_requests"}"#.into()),
        Fault::Hang,
    ] {
        ctx.provider.set_fault(fault);
        assert_unavailable(&ctx).await;
    }
    assert!(ctx.provider.is_active(&ctx.rt));
    ctx.provider.clear_fault();
    let r = get(&ctx, "/api/orders", &ctx.cookie).await;
    assert_eq!(r.status(), 200);
    assert_eq!(ctx.provider.reuse_detected(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_token_endpoint_is_503() {
    let provider = MockProvider::start().await;
    provider.set_token_endpoint(&format!("http://127.0.0.1:{}/oauth/token", free_port()));
    let up = EchoUpstream::start().await;
    let gw = Gateway::start(&config(&provider, &routes(&up)));
    let rt = provider.mint_refresh_token();
    let ctx = Ctx {
        cookie: cookie_for(&session_for(&rt, "primary-token")),
        provider,
        up,
        gw,
        rt,
    };
    assert_unavailable(&ctx).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn other_4xx_is_403_token_unavailable() {
    let ctx = setup().await;
    for (status, code) in [
        (400, "invalid_scope"),
        (403, "access_denied"),
        (400, "unauthorized_client"),
    ] {
        ctx.provider
            .set_fault(Fault::Status(status, json!({"error": code}).to_string()));
        let r = get(&ctx, "/api/orders", &ctx.cookie).await;
        assert_eq!(r.status(), 403, "{code}");
        assert!(set_cookies(&r).is_empty(), "{code}: {:?}", set_cookies(&r));
        assert_eq!(
            json_body(r).await,
            json!({"error": "token_unavailable", "detail": code})
        );
    }
    assert_eq!(ctx.up.count(), 0);
    assert!(ctx.provider.is_active(&ctx.rt));
}

fn invalid_bodies() -> Vec<(&'static str, Fault)> {
    vec![
        ("empty object", Fault::Json(json!({}))),
        (
            "empty access_token",
            Fault::Json(json!({"access_token": "", "token_type": "Bearer", "expires_in": 3600})),
        ),
        ("html", Fault::Html),
        ("DPoP token type", Fault::TokenType("DPoP".into())),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_token_responses_are_502_and_not_forwarded() {
    let ctx = setup().await;
    for (what, fault) in invalid_bodies() {
        ctx.provider.set_fault(fault);
        let r = get(&ctx, "/api/orders", &ctx.cookie).await;
        assert_eq!(r.status(), 502, "{what}");
        assert!(set_cookies(&r).is_empty(), "{what}: {:?}", set_cookies(&r));
        assert_eq!(
            json_body(r).await,
            json!({"error": "token_endpoint_invalid_response"}),
            "{what}"
        );
    }
    assert_eq!(ctx.up.count(), 0);
    assert_eq!(ctx.provider.call_count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_token_response_keeps_a_rotated_refresh_token() {
    for (what, fault) in invalid_bodies() {
        if matches!(fault, Fault::Html) {
            continue; // an HTML body cannot carry a refresh token
        }
        let ctx = setup().await;
        ctx.provider.set_fault_rotating(fault, true);
        let r = get(&ctx, "/api/orders", &ctx.cookie).await;
        assert_eq!(r.status(), 502, "{what}");
        let sc = set_cookies(&r);
        let session = open_set_cookies(&sc)
            .unwrap_or_else(|| panic!("{what}: rotated token not written: {sc:?}"));
        let rotated = session.refresh_token.clone().unwrap();
        assert_ne!(rotated, ctx.rt, "{what}");
        assert!(
            session.extra.iter().all(|t| !t.access_token.is_empty()),
            "{what}: empty token persisted"
        );

        ctx.provider.clear_fault();
        let r = get(&ctx, "/api/orders", &cookie_header_from(&sc)).await;
        assert_eq!(r.status(), 200, "{what}");
        let token = bearer(&json_body(r).await);
        assert_eq!(jwt_claims(&token).unwrap()["aud"], ORDERS_AUD, "{what}");
        let calls = ctx.provider.calls();
        assert_eq!(calls.len(), 2, "{what}");
        assert_eq!(
            calls[1].field("refresh_token"),
            Some(rotated.as_str()),
            "{what}"
        );
        assert_eq!(ctx.provider.reuse_detected(), 0, "{what}");
        assert_eq!(ctx.up.count(), 1, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_audience_is_403_and_never_forwarded_or_cached() {
    let ctx = setup().await;
    ctx.provider.set_fault(Fault::WrongAudience);
    let r = get(&ctx, "/api/orders", &ctx.cookie).await;
    assert_eq!(r.status(), 403);
    let sc = set_cookies(&r);
    assert_eq!(
        json_body(r).await,
        json!({"error": "token_unavailable", "detail": "audience_mismatch"})
    );
    assert_eq!(ctx.up.count(), 0);
    let session = open_set_cookies(&sc).expect("rotated refresh token written");
    let rotated = session.refresh_token.clone().unwrap();
    assert_ne!(rotated, ctx.rt);

    ctx.provider.clear_fault();
    let r = get(&ctx, "/api/orders", &cookie_header_from(&sc)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        jwt_claims(&bearer(&json_body(r).await)).unwrap()["aud"],
        ORDERS_AUD
    );
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 2, "the wrong-audience token was cached");
    assert_eq!(calls[1].field("refresh_token"), Some(rotated.as_str()));
    assert_eq!(ctx.provider.reuse_detected(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn narrower_scope_is_403_and_the_narrow_token_is_kept() {
    let ctx = setup().await;
    ctx.provider
        .set_fault(Fault::NarrowScope("read:orders".into()));
    let r = get(&ctx, "/api/orders-write", &ctx.cookie).await;
    assert_eq!(r.status(), 403);
    let sc = set_cookies(&r);
    assert_eq!(
        json_body(r).await,
        json!({"error": "insufficient_scope", "missing": "write:orders"})
    );
    assert_eq!(ctx.up.count(), 0);
    let cookie2 = cookie_header_from(&sc);
    assert!(
        open_cookie_header(&cookie2).is_some(),
        "narrow token not written: {sc:?}"
    );

    ctx.provider.clear_fault();
    let r = get(&ctx, "/api/orders-write", &cookie2).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        json_body(r).await,
        json!({"error": "insufficient_scope", "missing": "write:orders"})
    );
    assert_eq!(
        ctx.provider.call_count(),
        1,
        "a repeat request called again"
    );

    // The granted scope serves a route that needs only what was granted.
    let r = get(&ctx, "/api/orders", &cookie2).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        jwt_claims(&bearer(&json_body(r).await)).unwrap()["scope"],
        "read:orders"
    );
    assert_eq!(ctx.provider.call_count(), 1);
}

/// The upstream is down after the gateway fetched a token (and the provider rotated the refresh
/// token): the client gets a JSON 502, and the answer still carries the new session, or the
/// rotated refresh token would be lost with it.
#[tokio::test(flavor = "multi_thread")]
async fn upstream_down_after_an_exchange_is_json_502_and_keeps_the_new_session() {
    let ctx = setup_with(|mut b| {
        b.routes_yaml += &route(
            "down",
            "/down",
            &format!("http://127.0.0.1:{}", free_port()),
            &[
                &format!("audience: \"{ORDERS_AUD}\""),
                "scope: \"read:orders\"",
            ],
        );
        b
    })
    .await;
    let r = get(&ctx, "/down/x", &ctx.cookie).await;
    assert_eq!(r.status(), 502);
    let sc = set_cookies(&r);
    assert_eq!(json_body(r).await, json!({"error": "upstream_unavailable"}));
    let session = open_set_cookies(&sc).unwrap_or_else(|| panic!("no new session: {sc:?}"));
    let rotated = session.refresh_token.clone().unwrap();
    assert_ne!(rotated, ctx.rt);
    assert!(ctx.provider.is_active(&rotated));

    // The token fetched for the failed request serves the next one, without an exchange.
    let r = get(&ctx, "/api/orders/1", &cookie_header_from(&sc)).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookies(&r).is_empty(), "nothing changed");
    assert_eq!(ctx.provider.call_count(), 1);
    assert_eq!(ctx.provider.reuse_detected(), 0);
}

/// An upstream that answers `103 Early Hints` and then drops the connection.
async fn hints_then_hang_up() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let hints = b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n";
                let _ = socket.write_all(hints).await;
                let _ = socket.flush().await;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            });
        }
    });
    url
}

/// The same after an informational answer: `103` is not the answer, so the error answer that
/// follows it must still carry the new session.
#[tokio::test(flavor = "multi_thread")]
async fn upstream_failing_after_103_still_delivers_the_new_session() {
    let upstream = hints_then_hang_up().await;
    let ctx = setup_with(|mut b| {
        b.routes_yaml += &route(
            "hints",
            "/hints",
            &upstream,
            &[
                &format!("audience: \"{ORDERS_AUD}\""),
                "scope: \"read:orders\"",
            ],
        );
        b
    })
    .await;
    let r = get(&ctx, "/hints/x", &ctx.cookie).await;
    assert_eq!(r.status(), 502);
    let sc = set_cookies(&r);
    let session = open_set_cookies(&sc).unwrap_or_else(|| panic!("no new session: {sc:?}"));
    assert!(ctx
        .provider
        .is_active(session.refresh_token.as_deref().unwrap()));
    assert_eq!(ctx.provider.reuse_detected(), 0);
}

/// A session without a refresh token (the login brought none) keeps serving the routes of its
/// login token; a route of another audience answers `403 token_unavailable`
/// (`no_refresh_token`) without a call and without ending the session.
#[tokio::test(flavor = "multi_thread")]
async fn no_refresh_token_is_403_for_another_audience_and_keeps_the_session() {
    let ctx = setup().await;
    let mut s = session_for("unused", "primary-no-rt");
    s.refresh_token = None;
    let cookie = cookie_for(&s);
    let r = get(&ctx, "/api/orders/1", &cookie).await;
    assert_eq!(r.status(), 403);
    assert!(
        !clears_cookie(&set_cookies(&r), COOKIE),
        "the session was ended"
    );
    assert_eq!(
        json_body(r).await,
        json!({"error": "token_unavailable", "detail": "no_refresh_token"})
    );
    assert_eq!(ctx.provider.call_count(), 0);
    let r = get(&ctx, "/api/me", &cookie).await;
    assert_eq!(r.status(), 200, "the login token still serves");
    assert_eq!(bearer(&json_body(r).await), "primary-no-rt");
}

/// `tokens.max_cached` drops the least recently *used* token set: a token served from the
/// cookie is marked as used (at most once a minute, so a hit does not cost a new cookie each
/// time), and a new token then evicts the one not used for longest, not the one fetched first.
#[tokio::test(flavor = "multi_thread")]
async fn max_cached_drops_the_least_recently_used_token() {
    let ctx = setup_with(|c| c.max_cached(2)).await;
    let t = tokengate::session::model::now();
    let mut s = session_for(&ctx.rt, "primary");
    let mut orders = token_set(Some(ORDERS_AUD), "read:orders", "orders-old", t + 3600);
    orders.last_used = t - 3000;
    let mut reports = token_set(Some(REPORTS_AUD), "read:reports", "reports-old", t + 3600);
    reports.last_used = t - 1000;
    s.extra = vec![orders, reports];
    let cookie = cookie_for(&s);

    // Fetched first, used now.
    let r = get(&ctx, "/api/orders/1", &cookie).await;
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    assert_eq!(bearer(&json_body(r).await), "orders-old");
    assert!(!sc.is_empty(), "the use was recorded in the cookie");
    let cookie = cookie_header_from(&sc);
    // At most once a minute: the next hit writes nothing.
    let r = get(&ctx, "/api/orders/1", &cookie).await;
    assert!(set_cookies(&r).is_empty());
    assert_eq!(ctx.provider.call_count(), 0);

    // A third token: the reports token, unused for longest, goes.
    let r = get(&ctx, "/api/orders-write/1", &cookie).await;
    assert_eq!(r.status(), 200);
    let session = open_set_cookies(&set_cookies(&r)).expect("a new cookie");
    let held: Vec<&str> = session
        .extra
        .iter()
        .map(|t| t.access_token.as_str())
        .collect();
    assert!(held.contains(&"orders-old"), "{held:?}");
    assert!(!held.contains(&"reports-old"), "{held:?}");
}
