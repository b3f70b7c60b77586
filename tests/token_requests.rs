//! What the gateway sends to the token endpoint and when (docs/reference.md#provider,
//! #proxying-a-request, #session-size): client authentication, the audience parameter, the expiry
//! leeway, and the pruning of cached tokens whenever the session is written.

mod support;

use support::provider::{jwt_claims, CLIENT_ID, CLIENT_SECRET};
use support::scenario::*;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_post_sends_form_credentials() {
    let ctx = setup_with(|b| b.client_auth("client_secret_post")).await;
    let r = get(&ctx, "/api/orders", &ctx.cookie).await;
    assert_eq!(r.status(), 200);
    let call = &ctx.provider.calls()[0];
    assert_eq!(call.field("client_id"), Some(CLIENT_ID));
    assert_eq!(call.field("client_secret"), Some(CLIENT_SECRET));
    assert_eq!(call.authorization, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_basic_sends_an_authorization_header() {
    use base64::Engine;
    let ctx = setup_with(|b| b.client_auth("client_secret_basic")).await;
    let r = get(&ctx, "/api/orders", &ctx.cookie).await;
    assert_eq!(r.status(), 200);
    let call = &ctx.provider.calls()[0];
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(call.field("client_secret"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn resource_param_resource_sends_resource() {
    let ctx = setup_with(|b| b.resource_param("resource")).await;
    let r = get(&ctx, "/api/orders", &ctx.cookie).await;
    assert_eq!(r.status(), 200);
    let call = &ctx.provider.calls()[0];
    assert_eq!(call.field("resource"), Some(ORDERS_AUD));
    assert_eq!(call.field("audience"), None);
    assert_eq!(
        jwt_claims(&bearer(&json_body(r).await)).unwrap()["aud"],
        ORDERS_AUD
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_token_within_the_leeway_is_refreshed() {
    let ctx = setup().await;
    let now = tokengate::session::model::now();

    // Outside the 60 s leeway: still used.
    let mut s = session_for(&ctx.rt, "primary-still-good");
    s.primary.as_mut().unwrap().expires_at = now + 300;
    let r = get(&ctx, "/api/me", &cookie_for(&s)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(bearer(&json_body(r).await), "primary-still-good");
    assert_eq!(ctx.provider.call_count(), 0);

    // Inside the leeway: refreshed for the login audience. (A new session id, so that no state
    // the gateway may remember about the first session takes part.)
    let mut s = session_for(&ctx.rt, "primary-still-good");
    s.primary.as_mut().unwrap().expires_at = now + 30;
    let r = get(&ctx, "/api/me", &cookie_for(&s)).await;
    assert_eq!(r.status(), 200);
    assert!(!set_cookies(&r).is_empty(), "refreshed session not written");
    let token = bearer(&json_body(r).await);
    assert_ne!(token, "primary-still-good");
    assert_eq!(jwt_claims(&token).unwrap()["aud"], LOGIN_AUDIENCE);
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].field("audience"), Some(LOGIN_AUDIENCE));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_extra_tokens_are_pruned_on_write() {
    let ctx = setup().await;
    let now = tokengate::session::model::now();
    let mut s = session_for(&ctx.rt, "primary-token");
    for i in 0..40 {
        let aud = format!("https://svc{i}.example");
        let token = format!("expired-{i}-{}", "x".repeat(200));
        s.extra
            .push(token_set(Some(&aud), "read", &token, now - 10));
    }
    let old = cookie_for(&s);
    assert!(
        old.contains(&format!("{COOKIE}.1=")),
        "expected a chunked cookie"
    );

    let r = get(&ctx, "/api/orders", &old).await;
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    assert!(
        clears_cookie(&sc, &format!("{COOKIE}.1")),
        "stale chunk not cleared: {sc:?}"
    );
    let new = cookie_header_from(&sc);
    assert!(
        new.len() * 4 < old.len(),
        "new cookie {} bytes, old {}",
        new.len(),
        old.len()
    );
    let session = open_cookie_header(&new).expect("new cookie opens");
    assert_eq!(session.extra.len(), 1, "{:?}", session.extra);
    assert_eq!(session.extra[0].audience.as_deref(), Some(ORDERS_AUD));
}

#[tokio::test(flavor = "multi_thread")]
async fn at_most_max_cached_extra_tokens_are_kept() {
    let ctx = setup().await;
    let now = tokengate::session::model::now();
    let mut s = session_for(&ctx.rt, "primary-token");
    for i in 0..6u64 {
        let aud = format!("https://svc{i}.example");
        let mut t = token_set(Some(&aud), "read", &format!("fresh-{i}"), now + 3600);
        t.last_used = now - 1000 + i; // svc0 least recently used
        s.extra.push(t);
    }
    let r = get(&ctx, "/api/orders", &cookie_for(&s)).await;
    assert_eq!(r.status(), 200);
    let session = open_set_cookies(&set_cookies(&r)).expect("session written");
    let mut auds: Vec<String> = session
        .extra
        .iter()
        .filter_map(|t| t.audience.clone())
        .collect();
    auds.sort();
    assert_eq!(
        auds,
        vec![
            ORDERS_AUD.to_owned(),
            "https://svc3.example".into(),
            "https://svc4.example".into(),
            "https://svc5.example".into(),
        ]
    );
}
