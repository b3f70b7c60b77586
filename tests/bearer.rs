//! Machine clients with their own access token (docs/reference.md#machine-clients): on a
//! `bearer: accept` route a request without a session may present `Authorization: Bearer <JWT>`
//! signed by the provider; the gateway verifies it (once per token), checks audience, scope and
//! `require:` per route, and forwards it unchanged. Tokens here are signed with the mock
//! provider's published key (tests/support/signing.rs), or a key it does not publish.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::signing::{sign_access, Signer};
use support::*;

/// The audience of the `api` route.
const API: &str = "https://svc.example";

struct Setup {
    provider: MockProvider,
    up: EchoUpstream,
    gw: Gateway,
    cfg: ConfigBuilder,
}

/// Routes: `api` (accepts Bearers, own audience and scope), `opt` (accepts, `auth: optional`,
/// the login audience), `admin` (accepts, `require:` and identity headers), `plain` (the
/// default `bearer: reject`, `auth: optional`).
async fn setup() -> Setup {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = route(
        "api",
        "/api",
        &up.url(),
        &[
            "bearer: accept",
            &format!("audience: \"{API}\""),
            "scope: \"read:things\"",
        ],
    ) + &route(
        "opt",
        "/opt",
        &up.url(),
        &["bearer: accept", "auth: optional"],
    ) + &route(
        "admin",
        "/admin",
        &up.url(),
        &[
            "bearer: accept",
            "require:",
            "  groups: [admins]",
            "identity_headers:",
            "  X-User-Id: sub",
            "  X-User-Groups: groups",
        ],
    ) + &route("plain", "/plain", &up.url(), &["auth: optional"]);
    let cfg = ConfigBuilder::new(&provider, &routes).with_admin();
    let gw = Gateway::start(&cfg.build());
    Setup {
        provider,
        up,
        gw,
        cfg,
    }
}

fn now() -> u64 {
    tokengate::session::model::now()
}

/// Valid claims for `aud` with `scope`, issued by `provider` to a machine client.
fn claims(provider: &MockProvider, aud: &str, scope: &str) -> Value {
    json!({
        "iss": provider.issuer(),
        "sub": "svc-client-1",
        "aud": aud,
        "scope": scope,
        "iat": now(),
        "exp": now() + 600,
        "client_id": "machine",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

async fn get(url: &str, auth: Option<&str>, cookie: Option<&str>) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.expect("request")
}

/// The values of `name` the upstream received.
fn received(body: &Value, name: &str) -> Vec<String> {
    body["headers"][name]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn metrics(cfg: &ConfigBuilder) -> String {
    client()
        .get(cfg.admin_url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default()
}

/// The value of the sample `series` (exactly as exposed), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn assert_invalid(resp: reqwest::Response, what: &str) {
    assert_eq!(resp.status(), 401, "{what}");
    assert_eq!(
        resp.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer error=\"invalid_token\""),
        "{what}"
    );
    assert_eq!(
        json_body(resp).await,
        json!({"error": "invalid_token"}),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_token_is_forwarded_unchanged_and_verified_once() {
    let s = setup().await;
    let token = sign_access(
        &claims(&s.provider, API, "read:things other"),
        Signer::Provider,
    );
    let auth = format!("Bearer {token}");
    const N: usize = 20;
    for i in 0..N {
        let resp = get(&s.gw.url("/api/x"), Some(&auth), None).await;
        assert_eq!(resp.status(), 200, "request {i}");
        let body = json_body(resp).await;
        assert_eq!(received(&body, "authorization"), vec![auth.clone()]);
    }
    // POST without any origin proof: a Bearer request has no CSRF check.
    let resp = client()
        .post(s.gw.url("/api/x"))
        .header("authorization", &auth)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let m = metrics(&s.cfg).await;
    assert_eq!(
        sample(&m, "tokengate_bearer_cache_total{result=\"miss\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "tokengate_bearer_cache_total{result=\"hit\"}"),
        N as f64,
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "tokengate_bearer_total{result=\"accepted\",route=\"api\"}"
        ),
        N as f64 + 1.0,
        "{m}"
    );
    assert_eq!(s.provider.jwks_fetches(), 1);
    assert_eq!(
        s.provider.call_count(),
        0,
        "no token-endpoint call for a client token"
    );
    assert!(
        !s.gw.logs().contains(&token),
        "the token appears in the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_tokens_are_401_invalid_token_and_never_forwarded() {
    let s = setup().await;
    let good = claims(&s.provider, API, "read:things");
    let iss = s.provider.issuer();
    let unsigned = support::provider::jwt(API, "read:things", now() + 600, 1);
    let cases: Vec<(&str, String)> = vec![
        ("bad signature", sign_access(&good, Signer::Forger)),
        (
            "expired",
            sign_access(
                &with(good.clone(), "exp", json!(now() - 120)),
                Signer::Provider,
            ),
        ),
        (
            "nbf in the future",
            sign_access(
                &with(good.clone(), "nbf", json!(now() + 300)),
                Signer::Provider,
            ),
        ),
        (
            "wrong issuer",
            sign_access(
                &with(good.clone(), "iss", json!(format!("{iss}/other"))),
                Signer::Provider,
            ),
        ),
        (
            "wrong audience",
            sign_access(
                &with(good.clone(), "aud", json!("https://elsewhere")),
                Signer::Provider,
            ),
        ),
        (
            "login audience on a route with its own",
            sign_access(
                &with(good.clone(), "aud", json!(LOGIN_AUDIENCE)),
                Signer::Provider,
            ),
        ),
        (
            "no exp",
            sign_access(
                &json!({"iss": iss, "aud": API, "scope": "read:things"}),
                Signer::Provider,
            ),
        ),
        ("alg none", unsigned),
    ];
    for (what, token) in &cases {
        let resp = get(&s.gw.url("/api/x"), Some(&format!("Bearer {token}")), None).await;
        assert_invalid(resp, what).await;
    }
    let garbage: Vec<(&str, String)> = vec![
        ("bare scheme", "Bearer".to_owned()),
        ("opaque", "Bearer not-a-jwt".to_owned()),
        ("two segments", "Bearer abc.def".to_owned()),
        ("bad base64", "Bearer a+b.c/d.e=f".to_owned()),
        ("json junk", "Bearer e30.e30.e30".to_owned()),
        (
            "oversized",
            format!("Bearer {}.{}.sig", "a".repeat(9000), "b".repeat(10)),
        ),
    ];
    for (what, value) in &garbage {
        let resp = get(&s.gw.url("/api/x"), Some(value), None).await;
        assert_invalid(resp, what).await;
    }
    // Non-UTF-8 bytes, and two Authorization headers.
    use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
    let mut odd = HeaderMap::new();
    odd.insert(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer a.\xff\xfe.c").unwrap(),
    );
    let mut two = HeaderMap::new();
    two.append(AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
    two.append(AUTHORIZATION, HeaderValue::from_static("Basic eA=="));
    for (what, headers) in [("non-utf8", odd), ("two headers", two)] {
        let resp = client()
            .get(s.gw.url("/api/x"))
            .headers(headers)
            .send()
            .await
            .unwrap();
        assert_invalid(resp, what).await;
    }
    assert_eq!(s.up.count(), 0, "an invalid token reached the upstream");
    let m = metrics(&s.cfg).await;
    let invalid = cases.len() + garbage.len() + 2;
    assert_eq!(
        sample(
            &m,
            "tokengate_bearer_total{result=\"invalid\",route=\"api\"}"
        ),
        invalid as f64,
        "{m}"
    );
    // Another scheme is no Bearer: the usual 401 of a route that needs a session.
    let resp = get(&s.gw.url("/api/x"), Some("Basic dXNlcjpwdw=="), None).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(json_body(resp).await, json!({"error": "unauthenticated"}));
    // The gateway is fine afterwards.
    let token = sign_access(&good, Signer::Provider);
    let resp = get(&s.gw.url("/api/x"), Some(&format!("Bearer {token}")), None).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_signed_by_a_new_provider_key_is_accepted_after_the_keys_are_refetched() {
    let s = setup().await;
    let token = sign_access(&claims(&s.provider, API, "read:things"), Signer::Rotated);
    let auth = format!("Bearer {token}");
    // Not yet published: unknown kid, refused.
    assert_invalid(
        get(&s.gw.url("/api/x"), Some(&auth), None).await,
        "unpublished",
    )
    .await;
    s.provider.publish_rotated_key();
    // Within the refetch interval the keys are not fetched again (a forged kid cannot make the
    // gateway hammer the provider).
    assert_invalid(
        get(&s.gw.url("/api/x"), Some(&auth), None).await,
        "too soon",
    )
    .await;
    let fetches = s.provider.jwks_fetches();
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    let resp = get(&s.gw.url("/api/x"), Some(&auth), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(s.provider.jwks_fetches(), fetches + 1);
    // Tokens of the old key are still good.
    let old = sign_access(&claims(&s.provider, API, "read:things"), Signer::Provider);
    let resp = get(&s.gw.url("/api/x"), Some(&format!("Bearer {old}")), None).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_scope_is_403_insufficient_scope_with_what_is_missing() {
    let s = setup().await;
    let token = sign_access(&claims(&s.provider, API, "openid other"), Signer::Provider);
    let resp = get(&s.gw.url("/api/x"), Some(&format!("Bearer {token}")), None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\""
    );
    assert_eq!(
        json_body(resp).await,
        json!({"error": "insufficient_scope", "missing": "read:things"})
    );
    // `scp` as an array is a granted scope too; the cached claims serve another route.
    let scp = with(claims(&s.provider, API, ""), "scp", json!(["read:things"]));
    let scp = sign_access(
        &with(scp.clone(), "scope", Value::Null)
            .as_object()
            .map_or(scp.clone(), |o| {
                let mut o = o.clone();
                o.remove("scope");
                Value::Object(o)
            }),
        Signer::Provider,
    );
    let resp = get(&s.gw.url("/api/x"), Some(&format!("Bearer {scp}")), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(s.up.count(), 1);
    let m = metrics(&s.cfg).await;
    assert_eq!(
        sample(
            &m,
            "tokengate_bearer_total{result=\"insufficient_scope\",route=\"api\"}"
        ),
        1.0,
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn require_and_identity_headers_read_the_tokens_claims() {
    let s = setup().await;
    let admin = with(
        claims(&s.provider, LOGIN_AUDIENCE, ""),
        "groups",
        json!(["admins", "ops"]),
    );
    let token = sign_access(&admin, Signer::Provider);
    let resp = client()
        .get(s.gw.url("/admin/x"))
        .header("authorization", format!("Bearer {token}"))
        .header("x-user-id", "spoofed")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = json_body(resp).await;
    assert_eq!(received(&body, "x-user-id"), vec!["svc-client-1"]);
    assert_eq!(received(&body, "x-user-groups"), vec!["admins,ops"]);

    let user = with(admin, "groups", json!(["users"]));
    let token = sign_access(&user, Signer::Provider);
    let resp = get(
        &s.gw.url("/admin/x"),
        Some(&format!("Bearer {token}")),
        None,
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        json_body(resp).await,
        json!({"error": "forbidden", "detail": "groups"})
    );
    // The same token on a route without require: passes (the cache holds it for every route).
    let resp = get(&s.gw.url("/opt/x"), Some(&format!("Bearer {token}")), None).await;
    assert_eq!(resp.status(), 200);
    let m = metrics(&s.cfg).await;
    assert_eq!(
        sample(
            &m,
            "tokengate_bearer_total{result=\"forbidden\",route=\"admin\"}"
        ),
        1.0,
        "{m}"
    );
    assert_eq!(s.up.count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_wins_over_a_bearer_and_reject_routes_strip_it() {
    let s = setup().await;
    let session = session_for(&s.provider.mint_refresh_token(), "primary-token-b");
    let cookie = cookie_for(&session);
    let token = sign_access(&claims(&s.provider, LOGIN_AUDIENCE, ""), Signer::Provider);
    let auth = format!("Bearer {token}");
    // Session and Bearer: the session's token goes upstream.
    let body = json_body(get(&s.gw.url("/opt/x"), Some(&auth), Some(&cookie)).await).await;
    assert_eq!(
        received(&body, "authorization"),
        vec!["Bearer primary-token-b"]
    );
    // ... and with a session the CSRF rule applies again.
    let resp = client()
        .post(s.gw.url("/opt/x"))
        .header("authorization", &auth)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(json_body(resp).await, json!({"error": "csrf"}));
    // An invalid Bearer beside a session is not even looked at.
    let body = json_body(get(&s.gw.url("/opt/x"), Some("Bearer x.y.z"), Some(&cookie)).await).await;
    assert_eq!(
        received(&body, "authorization"),
        vec!["Bearer primary-token-b"]
    );
    // `bearer: reject` (the default): removed, the request goes on as anonymous.
    let body = json_body(get(&s.gw.url("/plain/x"), Some(&auth), None).await).await;
    assert!(received(&body, "authorization").is_empty(), "{body}");
    // Accepting route, optional, no Bearer: anonymous as before.
    let body = json_body(get(&s.gw.url("/opt/x"), None, None).await).await;
    assert!(received(&body, "authorization").is_empty(), "{body}");
    // Accepting route, required, no Bearer: the usual 401.
    let resp = get(&s.gw.url("/api/x"), None, None).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(json_body(resp).await, json!({"error": "unauthenticated"}));
}
