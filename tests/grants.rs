//! Token grants per route (docs/reference.md#token-grants) against the mock provider:
//! `client_credentials` (the gateway's own token, shared by the process) and `token_exchange`
//! (RFC 8693 with the session's primary token as the subject), with their failures.

mod support;

use serde_json::Value;
use support::provider::grants::{ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE};
use support::provider::{jwt_claims, Fault, TokenCall};
use support::*;

const CC_AUD: &str = "https://inventory.example";
const TE_AUD: &str = "https://ledger.example";

struct Ctx {
    provider: MockProvider,
    _up: EchoUpstream,
    gw: Gateway,
    cfg: ConfigBuilder,
    rt: String,
    cookie: String,
}

fn routes(up: &str) -> String {
    let cc = [
        "grant: client_credentials",
        &format!("audience: \"{CC_AUD}\""),
        "scope: \"read:stock\"",
    ]
    .map(str::to_owned);
    let cc: Vec<&str> = cc.iter().map(String::as_str).collect();
    let public: Vec<&str> = ["auth: none"].into_iter().chain(cc.clone()).collect();
    let user: Vec<&str> = ["identity_headers:", "  X-User-Email: email"]
        .into_iter()
        .chain(cc)
        .collect();
    route("me", "/api/me", up, &[])
        + &route("cc-public", "/api/cc-public", up, &public)
        + &route("cc-user", "/api/cc-user", up, &user)
        + &route(
            "ledger",
            "/api/ledger",
            up,
            &[
                "grant: token_exchange",
                &format!("audience: \"{TE_AUD}\""),
                "scope: \"read:ledger\"",
            ],
        )
}

async fn setup_with(tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Ctx {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let cfg = tune(ConfigBuilder::new(&provider, &routes(&up.url())).with_admin());
    let gw = Gateway::start(&cfg.build());
    let rt = provider.mint_refresh_token();
    let cookie = cookie_for(&session_for(&rt, "primary-token"));
    Ctx {
        provider,
        _up: up,
        gw,
        cfg,
        rt,
        cookie,
    }
}

async fn setup() -> Ctx {
    setup_with(|b| b).await
}

/// Status, body, Set-Cookie values of a GET with `cookie` (none when empty).
async fn get(ctx: &Ctx, path: &str, cookie: &str) -> (u16, Value, Vec<String>) {
    let mut req = client().get(ctx.gw.url(path));
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let sc = set_cookies(&r);
    let retry_after = r.headers().get("retry-after").cloned();
    let mut body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
    if let (Some(v), Some(o)) = (retry_after, body.as_object_mut()) {
        o.insert("retry-after".into(), v.to_str().unwrap().into());
    }
    (status, body, sc)
}

fn bearer(body: &Value) -> String {
    body["headers"]["authorization"][0]
        .as_str()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

fn claim(token: &str, name: &str) -> String {
    let claims = jwt_claims(token).unwrap_or_else(|| panic!("not a mock JWT: {token:?}"));
    claims[name].as_str().unwrap_or_default().to_owned()
}

async fn metrics(ctx: &Ctx) -> String {
    let url = ctx.cfg.admin_url("/metrics");
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `n` parallel GETs of `path` with `cookie`: (status, bearer) of each.
async fn parallel(ctx: &Ctx, path: &str, cookie: &str, n: usize) -> Vec<(u16, String)> {
    let all = (0..n).map(|_| async {
        let (status, body, _) = get(ctx, path, cookie).await;
        (status, bearer(&body))
    });
    futures_util::future::join_all(all).await
}

fn cc_call_ok(call: &TokenCall) {
    assert_eq!(call.field("grant_type"), Some("client_credentials"));
    assert_eq!(call.field("audience"), Some(CC_AUD));
    assert_eq!(call.field("scope"), Some("read:stock"));
    assert_eq!(call.field("client_id"), Some(provider::CLIENT_ID));
    assert_eq!(call.field("refresh_token"), None);
    assert_eq!(call.field("subject_token"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_on_an_auth_none_route_is_the_gateways_own_cached_token() {
    let ctx = setup().await;
    let (status, body, sc) = get(&ctx, "/api/cc-public", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(sc.is_empty(), "no session, no cookie: {sc:?}");
    let token = bearer(&body);
    assert_eq!(claim(&token, "aud"), CC_AUD);
    assert_eq!(claim(&token, "scope"), "read:stock");
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1);
    cc_call_ok(&calls[0]);
    // Shared by the process: another request (with a session or without) makes no call.
    let (_, body, _) = get(&ctx, "/api/cc-public", "").await;
    assert_eq!(bearer(&body), token);
    let (status, body, sc) = get(&ctx, "/api/cc-user", &ctx.cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(bearer(&body), token, "the user's token is not sent");
    assert_eq!(body["headers"]["x-user-email"][0], "user@example.com");
    assert!(sc.is_empty(), "the session is untouched: {sc:?}");
    assert_eq!(ctx.provider.call_count(), 1);
    assert!(ctx.provider.is_active(&ctx.rt));
    let m = metrics(&ctx).await;
    let line = r#"tokengate_token_requests_total{grant="client_credentials",outcome="success",route="cc-public"} 1"#;
    assert!(m.lines().any(|l| l == line), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_32_parallel_requests_make_one_call() {
    let ctx = setup().await;
    ctx.provider
        .set_fault(Fault::Latency(std::time::Duration::from_millis(300)));
    let answers = parallel(&ctx, "/api/cc-public", "", 32).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(answers.iter().all(|(_, t)| *t == answers[0].1));
    assert_eq!(ctx.provider.call_count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_is_cached_until_expiry_minus_leeway_then_one_new_call() {
    let ctx = setup_with(|b| ConfigBuilder {
        expiry_leeway: "1s",
        ..b
    })
    .await;
    // Usable while expires_at - 1 > now: 3 to 4 s after the call (whole seconds).
    ctx.provider.set_expires_in(5);
    let (_, first, _) = get(&ctx, "/api/cc-public", "").await;
    let (_, again, _) = get(&ctx, "/api/cc-public", "").await;
    assert_eq!(bearer(&first), bearer(&again));
    assert_eq!(ctx.provider.call_count(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    let answers = parallel(&ctx, "/api/cc-public", "", 8).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert_ne!(answers[0].1, bearer(&first), "renewed before it expired");
    assert_eq!(ctx.provider.call_count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_failures_answer_the_table_and_touch_no_session() {
    let ctx = setup().await;
    let cases = [
        (
            Fault::Status(401, r#"{"error":"invalid_client"}"#.into()),
            403,
            Some("invalid_client"),
        ),
        (
            Fault::Status(400, r#"{"error":"invalid_grant"}"#.into()),
            403,
            Some("invalid_grant"),
        ),
        (Fault::Status(503, "down".into()), 503, None),
        (Fault::Html, 502, None),
    ];
    for (fault, want, detail) in cases {
        ctx.provider.set_fault(fault.clone());
        let (status, body, sc) = get(&ctx, "/api/cc-user", &ctx.cookie).await;
        assert_eq!(status, want, "{fault:?}: {body}");
        if let Some(d) = detail {
            assert_eq!(body["error"], "token_unavailable");
            assert_eq!(body["detail"], d);
        }
        if want == 503 {
            assert_eq!(body["error"], "token_endpoint_unavailable");
            assert!(body["retry-after"].is_string(), "{body}");
        }
        assert!(sc.is_empty(), "{fault:?}: the session is untouched: {sc:?}");
    }
    ctx.provider.clear_fault();
    let (status, body, _) = get(&ctx, "/api/me", &ctx.cookie).await;
    assert_eq!(status, 200, "the session still works: {body}");
    assert_eq!(bearer(&body), "primary-token");
    assert!(ctx.provider.is_active(&ctx.rt));
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_provider_down_is_503_with_one_call_per_burst() {
    // Long enough that every request of the burst arrives while the first call hangs.
    let ctx = setup_with(|b| ConfigBuilder { timeout: "3s", ..b }).await;
    ctx.provider.set_fault(Fault::Hang);
    let answers = parallel(&ctx, "/api/cc-public", "", 8).await;
    assert!(answers.iter().all(|(s, _)| *s == 503), "{answers:?}");
    assert_eq!(
        ctx.provider.call_count(),
        1,
        "waiters share the failure: {}",
        ctx.gw.logs()
    );
}

fn te_call_ok(call: &TokenCall, subject: &str) {
    assert_eq!(call.field("grant_type"), Some(TOKEN_EXCHANGE));
    assert_eq!(call.field("subject_token"), Some(subject));
    assert_eq!(call.field("subject_token_type"), Some(ACCESS_TOKEN_TYPE));
    assert_eq!(call.field("requested_token_type"), Some(ACCESS_TOKEN_TYPE));
    assert_eq!(call.field("audience"), Some(TE_AUD));
    assert_eq!(call.field("scope"), Some("read:ledger"));
    assert_eq!(call.field("refresh_token"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_presents_the_primary_token_and_never_the_refresh_token() {
    let ctx = setup().await;
    let (status, body, sc) = get(&ctx, "/api/ledger", &ctx.cookie).await;
    assert_eq!(status, 200, "{body}");
    let token = bearer(&body);
    assert_eq!(claim(&token, "aud"), TE_AUD);
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1);
    te_call_ok(&calls[0], "primary-token");
    // Rotation is on, yet the refresh token was neither presented nor replaced.
    assert!(ctx.provider.is_active(&ctx.rt));
    let session = open_set_cookies(&sc).expect("the exchanged token is cached in the session");
    assert_eq!(session.refresh_token.as_deref(), Some(ctx.rt.as_str()));
    let cookie = cookie_header_from(&sc);
    let (status, body, _) = get(&ctx, "/api/ledger", &cookie).await;
    assert_eq!((status, bearer(&body)), (200, token));
    assert_eq!(ctx.provider.call_count(), 1, "served from the session");
    let m = metrics(&ctx).await;
    let line = r#"tokengate_token_requests_total{grant="token_exchange",outcome="success",route="ledger"} 1"#;
    assert!(m.lines().any(|l| l == line), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_renews_an_expired_primary_first() {
    let ctx = setup().await;
    let mut s = session_for(&ctx.rt, "primary-token");
    s.primary.as_mut().unwrap().expires_at = tokengate::session::model::now() + 30;
    let (status, body, _) = get(&ctx, "/api/ledger", &cookie_for(&s)).await;
    assert_eq!(status, 200, "{body}");
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].field("grant_type"), Some("refresh_token"));
    assert_eq!(calls[0].field("audience"), Some(LOGIN_AUDIENCE));
    let renewed = calls[0].field("refresh_token").unwrap().to_owned();
    assert_eq!(renewed, ctx.rt);
    let subject = calls[1].field("subject_token").unwrap().to_owned();
    assert_eq!(claim(&subject, "aud"), LOGIN_AUDIENCE);
    te_call_ok(&calls[1], &subject);
    assert_eq!(ctx.provider.reuse_detected(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_refused_subject_is_renewed_once_then_succeeds() {
    let ctx = setup().await;
    ctx.provider.refuse_subject("primary-token");
    let (status, body, sc) = get(&ctx, "/api/ledger", &ctx.cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claim(&bearer(&body), "aud"), TE_AUD);
    let grants: Vec<_> = ctx
        .provider
        .calls()
        .iter()
        .map(|c| c.field("grant_type").unwrap_or("").to_owned())
        .collect();
    assert_eq!(grants, [TOKEN_EXCHANGE, "refresh_token", TOKEN_EXCHANGE]);
    let session = open_set_cookies(&sc).expect("session written");
    assert_ne!(session.primary.unwrap().access_token, "primary-token");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_still_refused_after_renewal_ends_the_session() {
    let ctx = setup().await;
    ctx.provider.refuse_all_subjects(true);
    let (status, body, sc) = get(&ctx, "/api/ledger", &ctx.cookie).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("session_expired"))
    );
    assert!(clears_cookie(&sc, COOKIE), "{sc:?}");
    assert_eq!(ctx.provider.call_count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_failures_keep_the_session() {
    let ctx = setup().await;
    for (fault, want) in [
        (
            Fault::Status(400, r#"{"error":"invalid_target"}"#.into()),
            403,
        ),
        (Fault::Status(503, "down".into()), 503),
        (Fault::Html, 502),
    ] {
        ctx.provider.set_fault(fault.clone());
        let (status, body, sc) = get(&ctx, "/api/ledger", &ctx.cookie).await;
        assert_eq!(status, want, "{fault:?}: {body}");
        assert!(!clears_cookie(&sc, COOKIE), "{fault:?}: {sc:?}");
    }
    assert!(ctx.provider.is_active(&ctx.rt));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_32_parallel_requests_make_one_call() {
    let ctx = setup().await;
    ctx.provider
        .set_fault(Fault::Latency(std::time::Duration::from_millis(300)));
    let answers = parallel(&ctx, "/api/ledger", &ctx.cookie, 32).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(answers.iter().all(|(_, t)| *t == answers[0].1));
    assert_eq!(ctx.provider.call_count(), 1);
    assert!(ctx.provider.is_active(&ctx.rt));
}
