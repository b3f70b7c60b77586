//! The Redis session store (`session.store: redis`) on one replica, against a real `redis-server`:
//! the cookie is a small opaque reference, the record in Redis is sealed (a dump shows no token)
//! and expires with the session's lifetimes, logout deletes it, and the URL may carry a password
//! and a db. Replicas, back-channel logout and outages have their own files (`redis_replicas.rs`,
//! `redis_outage.rs`).

mod support;

use serde_json::json;
use std::time::Duration;
use support::provider::jwt_claims;
use support::redis_scenario::{setup, status_and_json, user_session, APIS, SEVEN_DAYS};
use support::redis_server::{
    connect, dump, load_record, mint_redis_session, record_ttl, reference_cookie, RedisServer,
    TEST_CA,
};
use support::scenario::{bearer, ORDERS_AUD, REPORTS_AUD};
use support::*;
use tokengate::session::model::now;

/// The value of the `tokengate` cookie in a `Cookie` header.
fn cookie_value(header: &str) -> &str {
    header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == COOKIE)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cookie_is_a_small_reference_and_tokens_stay_in_redis() {
    let ctx = setup(1, |b| b.max_cached(16)).await;
    let url = ctx.redis.url();
    let (s, cookie) = ctx.mint("user-a", "psid-a").await;

    // A session holding many tokens refers to it with a cookie of the same size.
    let mut big = user_session(&ctx.provider, "user-b", "psid-b");
    for k in 0..12 {
        big.extra.push(token_set(
            Some(&format!("https://api{k}.example")),
            "read write admin",
            &format!("{}-{k}", "x".repeat(900)),
            now() + 3600,
        ));
    }
    let big_cookie = mint_redis_session(&url, &big, SEVEN_DAYS).await;
    assert!(cookie_value(&cookie).len() < 200, "{cookie}");
    assert_eq!(cookie_value(&big_cookie).len(), cookie_value(&cookie).len());
    assert!(!cookie.contains(".1="), "one chunk only: {cookie}");

    let r = ctx.get(0, "/api/me", &cookie).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookies(&r).is_empty(), "a cache hit writes no cookie");
    assert_eq!(bearer(&json_body(r).await), format!("primary-{}", s.sid));

    // Every exchange adds a token to the record, never to the cookie.
    for (path, aud) in APIS {
        let r = ctx.get(0, path, &cookie).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(set_cookies(&r).is_empty(), "{path}: {:?}", set_cookies(&r));
        let token = bearer(&json_body(r).await);
        assert_eq!(jwt_claims(&token).unwrap()["aud"], aud);
    }
    assert_eq!(ctx.provider.call_count(), 3);
    let record = load_record(&url, &s.sid).await.expect("record");
    assert_eq!(record.extra.len(), 3);
    let rt = record.refresh_token.clone().expect("refresh token");
    assert_ne!(Some(rt.clone()), s.refresh_token, "rotated token stored");
    assert!(ctx.provider.is_active(&rt));

    // Hits come from Redis: no further call.
    let r = ctx.get(0, "/api/reports", &cookie).await;
    assert_eq!(r.status(), 200);
    assert_eq!(ctx.provider.call_count(), 3);

    let r = ctx.get(0, "/auth/session", &cookie).await;
    let (status, body) = status_and_json(r).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["sub"], "user-a");
    assert_eq!(body["user"]["email"], "user-a@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_of_redis_reveals_no_token() {
    let ctx = setup(1, |b| b).await;
    let url = ctx.redis.url();
    let (s, cookie) = ctx.mint("user-d", "psid-d").await;
    let mut secrets = vec![
        s.refresh_token.clone().unwrap(),
        s.primary.as_ref().unwrap().access_token.clone(),
    ];
    for (path, _) in APIS {
        let r = ctx.get(0, path, &cookie).await;
        assert_eq!(r.status(), 200, "{path}");
        secrets.push(bearer(&json_body(r).await));
    }
    let record = load_record(&url, &s.sid).await.expect("record");
    secrets.push(record.refresh_token.clone().unwrap());
    // The access tokens are JWTs: their readable payloads must not show either.
    let payloads: Vec<String> = secrets
        .iter()
        .filter_map(|t| t.split('.').nth(1).map(str::to_owned))
        .collect();
    assert_eq!(payloads.len(), 3, "three JWT access tokens");
    secrets.extend(payloads);

    let dump = dump(&url).await;
    assert!(
        dump.iter().any(|(k, _)| k.contains(&s.sid)),
        "the record is there: {dump:?}"
    );
    for (key, value) in &dump {
        for secret in &secrets {
            assert!(!key.contains(secret.as_str()), "{key} shows a token");
            assert!(!value.contains(secret.as_str()), "{key} shows a token");
        }
        assert!(!value.contains(ORDERS_AUD) && !value.contains(REPORTS_AUD));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_record_expires_with_the_idle_timeout_and_the_absolute_lifetime() {
    let ctx = setup(1, |b| b.idle_timeout("1h")).await;
    let url = ctx.redis.url();
    // Minted with a short life, so what is measured is what the gateway writes.
    let fresh = user_session(&ctx.provider, "user-t", "psid-t");
    let fresh_cookie = mint_redis_session(&url, &fresh, Duration::from_secs(600)).await;
    let mut old = user_session(&ctx.provider, "user-u", "psid-u");
    old.created_at = now() - SEVEN_DAYS.as_secs() + 100;
    old.last_seen = now();
    let old_cookie = mint_redis_session(&url, &old, Duration::from_secs(600)).await;

    for cookie in [&fresh_cookie, &old_cookie] {
        let r = ctx.get(0, "/api/orders", cookie).await;
        assert_eq!(r.status(), 200);
    }
    let ttl = record_ttl(&url, &fresh.sid).await;
    assert!((3590..=3600).contains(&ttl), "idle timeout: {ttl}");
    let ttl = record_ttl(&url, &old.sid).await;
    assert!((80..=100).contains(&ttl), "absolute lifetime: {ttl}");
}

/// A user active within the idle timeout keeps the session, however long ago the login was (and
/// the session stays reachable by back-channel logout).
#[tokio::test(flavor = "multi_thread")]
async fn activity_restarts_the_idle_clock() {
    let ctx = setup(1, |b| b.idle_timeout("70s")).await;
    let url = ctx.redis.url();
    let mut s = user_session(&ctx.provider, "user-i", "psid-i");
    s.created_at = now() - 65;
    s.last_seen = now() - 65;
    let cookie = mint_redis_session(&url, &s, Duration::from_secs(5)).await;
    let r = ctx.get(0, "/api/me", &cookie).await;
    assert_eq!(r.status(), 200, "active 65 s ago, idle timeout 70 s");
    let ttl = record_ttl(&url, &s.sid).await;
    assert!(
        (60..=70).contains(&ttl),
        "the request extended the record: {ttl}"
    );

    // 7 s later the login is 72 s old but the last request only 7 s: still logged in.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let r = ctx.get(0, "/api/me", &cookie).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let r = ctx.get(0, "/auth/session", &cookie).await;
    assert_eq!(r.status(), 200);

    // Back-channel logout still finds it: its index entry lived as long as the record.
    let token = ctx.provider.logout_token(None, Some("user-i"));
    let r = ctx.backchannel(0, &[("logout_token", &token)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(ctx.get(0, "/api/me", &cookie).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_deletes_the_record() {
    let ctx = setup(1, |b| b).await;
    let url = ctx.redis.url();
    let (s, cookie) = ctx.mint("user-l", "psid-l").await;
    let (other, other_cookie) = ctx.mint("user-m", "psid-m").await;
    assert_eq!(ctx.get(0, "/api/me", &cookie).await.status(), 200);

    let r = ctx.get(0, "/auth/logout", &cookie).await;
    assert_eq!(r.status(), 302);
    assert!(
        clears_cookie(&set_cookies(&r), COOKIE),
        "{:?}",
        set_cookies(&r)
    );
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/oidc/logout", ctx.provider.issuer())),
        "{location}"
    );

    assert!(load_record(&url, &s.sid).await.is_none());
    let keys: Vec<String> = redis::AsyncCommands::keys(&mut connect(&url).await, "*")
        .await
        .unwrap();
    assert!(
        !keys.iter().any(|k| k.contains(&s.sid)),
        "nothing of the session is left: {keys:?}"
    );
    let r = ctx.get(0, "/api/me", &cookie).await;
    assert_eq!(r.status(), 401);
    assert!(clears_cookie(&set_cookies(&r), COOKIE));
    assert_eq!(ctx.get(0, "/auth/session", &cookie).await.status(), 401);

    // Only that session ended.
    assert!(load_record(&url, &other.sid).await.is_some());
    assert_eq!(ctx.get(0, "/api/me", &other_cookie).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cookie_redis_does_not_back_is_no_session() {
    let ctx = setup(1, |b| b).await;
    // A well-formed reference to a session Redis never held (expired, or logged out elsewhere).
    let s = user_session(&ctx.provider, "user-n", "psid-n");
    let dangling = reference_cookie(&s.sid);
    // A whole session sealed as the cookie store would: the other mode's cookie.
    let whole = cookie_for(&s);
    for cookie in [&dangling, &whole] {
        let r = ctx.get(0, "/api/me", cookie).await;
        assert!(clears_cookie(&set_cookies(&r), COOKIE));
        let (status, body) = status_and_json(r).await;
        assert_eq!(
            (status, body),
            (401, json!({"error": "unauthenticated"})),
            "{cookie}"
        );
        let r = ctx.get(0, "/public", cookie).await;
        assert_eq!(r.status(), 200, "auth: none ignores the cookie");
    }
    assert_eq!(ctx.provider.call_count(), 0);
    assert_eq!(ctx.up.count(), 2, "only the public requests went upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn password_and_db_come_from_the_url() {
    const PASSWORD: &str = "redis-pw-7d1f0c";
    let redis = RedisServer::start_with_password(Some(PASSWORD));
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = support::redis_scenario::routes(&up);
    let good_url = format!("redis://:{PASSWORD}@127.0.0.1:{}/5", redis.port());
    let gw = Gateway::start(
        &ConfigBuilder::new(&provider, &routes)
            .redis(&good_url)
            .build(),
    );
    let bad_url = format!("redis://:wrong-pw-5e2a@127.0.0.1:{}/5", redis.port());
    let bad = Gateway::start(
        &ConfigBuilder::new(&provider, &routes)
            .redis(&bad_url)
            .build(),
    );

    let s = user_session(&provider, "user-p", "psid-p");
    let cookie = mint_redis_session(&good_url, &s, SEVEN_DAYS).await;
    let r = client()
        .get(gw.url("/api/orders"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let record = load_record(&good_url, &s.sid)
        .await
        .expect("record in db 5");
    assert_eq!(record.extra.len(), 1, "the gateway wrote to db 5");
    let db0 = format!("redis://:{PASSWORD}@127.0.0.1:{}/0", redis.port());
    assert!(dump(&db0).await.is_empty(), "db 0 untouched");

    // A wrong password is an unavailable store, not a 500.
    let r = client()
        .get(bad.url("/api/orders"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    let (status, body) = status_and_json(r).await;
    assert_eq!(
        (status, body),
        (503, json!({"error": "session_store_unavailable"}))
    );
    for logs in [gw.logs(), bad.logs()] {
        assert!(!logs.contains(PASSWORD) && !logs.contains("wrong-pw-5e2a"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rediss_verifies_the_server_certificate() {
    let redis = RedisServer::start_tls();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = support::redis_scenario::routes(&up);
    let yaml = ConfigBuilder::new(&provider, &routes)
        .redis(&redis.tls_url())
        .build();
    let trusting = Gateway::start_with(&yaml, &["run"], &[("SSL_CERT_FILE", TEST_CA)]);
    // The system's trust store does not know the test CA.
    let yaml = ConfigBuilder::new(&provider, &routes)
        .redis(&redis.tls_url())
        .build();
    let untrusting = Gateway::start(&yaml);

    let s = user_session(&provider, "user-s", "psid-s");
    let cookie = mint_redis_session(&redis.url(), &s, SEVEN_DAYS).await;
    let get = |gw: &Gateway| {
        client()
            .get(gw.url("/api/orders"))
            .header("cookie", &cookie)
            .send()
    };
    let r = get(&trusting).await.unwrap();
    assert_eq!(r.status(), 200);
    let record = load_record(&redis.url(), &s.sid).await.expect("record");
    assert_eq!(record.extra.len(), 1, "written over TLS");

    let r = get(&untrusting).await.unwrap();
    let (status, body) = status_and_json(r).await;
    assert_eq!(
        (status, body),
        (503, json!({"error": "session_store_unavailable"}))
    );
}
