//! Access policy and identity against the real binary and the mock provider
//! (docs/reference.md#access-policy-and-identity), from minted sessions: who passes `require:`,
//! the step-up challenge, what the upstream receives (identity and static headers, the signed
//! assertion, verified with the published JWKS), spoofed identity headers removed on every route
//! kind, and a reload that changes a policy for sessions that already exist.

use super::support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokengate::session::claims::Claims;
use tokengate::session::model::Session;

const KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/jwt_crypto/testdata/p256.key.pem"
);

fn routes(up: &str, admin_groups: &str) -> String {
    route(
        "admin",
        "/admin",
        up,
        &[
            "require:",
            &format!("  groups: {admin_groups}"),
            "  email: \"*@example.com\"",
            "identity_headers:",
            "  X-User: sub",
            "  X-User-Groups: groups",
            "  X-User-Email: email",
            "identity_assertion: true",
            "upstream_headers:",
            "  X-Api-Key: \"static-key-1\"",
        ],
    ) + &route(
        "mfa",
        "/mfa",
        up,
        &["require:", "  acr: [\"urn:mfa\", gold]"],
    ) + &route(
        "open",
        "/open",
        up,
        &["auth: optional", "identity_headers:", "  X-User: sub"],
    ) + &route("hooks", "/hooks", up, &["auth: none", "csrf: false"])
}

fn yaml(builder: &ConfigBuilder) -> String {
    yaml_with_keys(builder, &format!("assertion_key: \"{KEY}\""))
}

fn yaml_with_keys(builder: &ConfigBuilder, keys: &str) -> String {
    builder
        .build()
        .replacen("  threads: 1\n", &format!("  threads: 1\n  {keys}\n"), 1)
}

/// A new P-256 key as a PKCS#8 PEM file in `dir`.
fn new_key_file(dir: &std::path::Path) -> String {
    use base64::Engine;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .expect("a new key");
    let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
    let path = dir.join("new.pem");
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
    std::fs::write(&path, pem).expect("write the key");
    path.display().to_string()
}

async fn jwks_kids(gw: &Gateway) -> Vec<String> {
    let set: Value = client()
        .get(gw.url("/.well-known/tokengate/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    set["keys"]
        .as_array()
        .map(|k| {
            k.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn session(groups: Value, acr: Option<&str>) -> Session {
    let mut s = session_for("rt-1", "primary-token");
    let mut source = serde_json::Map::new();
    source.insert("groups".into(), groups);
    if let Some(acr) = acr {
        source.insert("acr".into(), json!(acr));
    }
    let used = ["groups".to_owned(), "acr".to_owned()].into();
    s.claims = Claims::keep(&source, &used);
    s
}

async fn get(url: &str, cookie: Option<&str>, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    req.send().await.expect("the gateway answers")
}

fn header<'a>(body: &'a Value, name: &str) -> Vec<&'a str> {
    body["headers"][name]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

const SPOOF: &[(&str, &str)] = &[
    ("X-User", "mallory"),
    ("x-user-groups", "admins"),
    ("X-Tokengate-Assertion", "forged.jwt.value"),
];

#[tokio::test(flavor = "multi_thread")]
async fn policy_identity_headers_and_the_assertion() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let mut builder =
        ConfigBuilder::new(&provider, &routes(&up.url(), "[admins, ops]")).with_admin();
    let gw = Gateway::start(&yaml(&builder));
    let admin = cookie_for(&session(json!(["staff", "admins"]), None));
    let staff = cookie_for(&session(json!(["staff"]), None));

    // Allowed: identity headers from the session, the client's copies gone, the static header.
    let resp = get(&gw.url("/admin/x"), Some(&admin), SPOOF).await;
    assert_eq!(resp.status(), 200);
    let body = json_body(resp).await;
    assert_eq!(header(&body, "x-user"), ["user-1"]);
    assert_eq!(header(&body, "x-user-groups"), ["staff,admins"]);
    assert_eq!(header(&body, "x-user-email"), ["user@example.com"]);
    assert_eq!(header(&body, "x-api-key"), ["static-key-1"]);
    let assertion = header(&body, "x-tokengate-assertion");
    assert_eq!(assertion.len(), 1);
    assert_ne!(assertion[0], "forged.jwt.value");
    let claims = verify(&gw, assertion[0], &up.url()).await;
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(claims["iss"], gw.origin());
    assert_eq!(claims["groups"], json!(["staff", "admins"]));
    let lifetime = claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0);
    assert!(lifetime <= 60, "exp - iat = {lifetime}");
    // Reused while fresh: a second request carries the same assertion.
    let again = json_body(get(&gw.url("/admin/y"), Some(&admin), &[]).await).await;
    assert_eq!(header(&again, "x-tokengate-assertion"), assertion);

    // Denied: the claim's name, never its value; counted.
    let resp = get(&gw.url("/admin/x"), Some(&staff), &[]).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        json_body(resp).await,
        json!({"error": "forbidden", "detail": "groups"})
    );
    let metrics = client()
        .get(builder.admin_url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains("tokengate_policy_denied_total{route=\"admin\"} 1"),
        "{metrics}"
    );

    // Step-up: only acr fails.
    let resp = get(&gw.url("/mfa/x"), Some(&admin), &[]).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"insufficient_user_authentication\", acr_values=\"urn:mfa gold\""
    );
    assert_eq!(
        json_body(resp).await,
        json!({"error": "insufficient_user_authentication", "acr_values": "urn:mfa gold"})
    );
    let gold = cookie_for(&session(json!([]), Some("gold")));
    assert_eq!(get(&gw.url("/mfa/x"), Some(&gold), &[]).await.status(), 200);

    // Spoofed identity headers are removed on every route kind, with or without a session.
    for (path, cookie) in [
        ("/hooks/x", None),
        ("/open/x", None),
        ("/open/x", Some(&staff)),
    ] {
        let body = json_body(get(&gw.url(path), cookie.map(String::as_str), SPOOF).await).await;
        let user = header(&body, "x-user");
        assert!(user.is_empty() || user == ["user-1"], "{path}: {user:?}");
        assert!(header(&body, "x-user-groups").is_empty(), "{path}");
        assert!(header(&body, "x-tokengate-assertion").is_empty(), "{path}");
    }

    // A session from before the config used a claim: a new login is asked for.
    let old = cookie_for(&session_for("rt-1", "primary-token"));
    let resp = get(&gw.url("/admin/x"), Some(&old), &[]).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        json_body(resp).await,
        json!({"error": "forbidden", "detail": "groups", "login_required": true})
    );

    // A reload that changes require: applies to the sessions that exist; it also re-reads the
    // key files: a new first key signs, both are published.
    let old_kids = jwks_kids(&gw).await;
    assert_eq!(old_kids.len(), 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let new_key = new_key_file(dir.path());
    builder.routes_yaml = routes(&up.url(), "staff");
    let keys = format!("assertion_keys: [\"{new_key}\", \"{KEY}\"]");
    std::fs::write(gw.config_path(), yaml_with_keys(&builder, &keys)).expect("rewrite the config");
    gw.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if get(&gw.url("/admin/x"), Some(&staff), &[]).await.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reload not applied:\n{}",
            gw.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        get(&gw.url("/admin/x"), Some(&admin), &[]).await.status(),
        200
    );

    let logs = gw.logs();
    for secret in ["staff,admins", "static-key-1", assertion[0], "mallory"] {
        assert!(!logs.contains(secret), "{secret:?} in the logs");
    }
}

/// The assertion checked with the JWKS the gateway publishes: signature, `aud`, `exp`.
async fn verify(gw: &Gateway, token: &str, audience: &str) -> Value {
    let resp = client()
        .get(gw.url("/.well-known/tokengate/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "public, max-age=300");
    let jwks: jsonwebtoken::jwk::JwkSet = resp.json().await.expect("a JWKS");
    tokengate::jwt_crypto::install();
    let header = jsonwebtoken::decode_header(token).expect("a JWS");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap_or_default())
        .expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[gw.origin()]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the assertion verifies")
        .claims
}
