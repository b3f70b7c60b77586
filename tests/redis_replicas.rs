//! The Redis session store across replicas (docs/reference.md#concurrency-and-rotation): three
//! gateways on one real `redis-server`. A storm of parallel requests for many sessions and
//! audiences makes exactly one token exchange per session and audience, never presents a refresh
//! token twice, and answers everything; a back-channel `logout_token` signed by the provider ends
//! sessions on every replica, and a forged, expired or malformed one is refused.

mod support;

use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use support::provider::{jwt_claims, CLIENT_SECRET};
use support::redis_scenario::{setup, status_and_json, user_session, RedisCtx, APIS, SEVEN_DAYS};
use support::redis_server::{load_record, mint_redis_session};
use support::scenario::bearer;
use support::signing::{sign, Signer, KID};
use support::*;
use tokengate::session::model::now;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_over_three_replicas_makes_one_exchange_per_session_and_audience() {
    let ctx = setup(3, |b| b).await;
    // Long enough that the requests of one session really overlap on the three replicas.
    ctx.provider
        .set_fault(Fault::Latency(Duration::from_millis(50)));
    let mut sessions = Vec::new();
    for k in 0..8 {
        sessions.push(ctx.mint(&format!("user-{k}"), &format!("psid-{k}")).await);
    }

    // 4 rounds x 8 sessions x 3 audiences, all at once; each (session, audience) reaches every
    // replica.
    let mut plan = Vec::new();
    for round in 0..4 {
        for (s, _) in sessions.iter().enumerate() {
            for (a, _) in APIS.iter().enumerate() {
                plan.push((s, a, (round + s + a) % 3));
            }
        }
    }
    let answers = join_all(plan.iter().map(|&(s, a, replica)| {
        let ctx = &ctx;
        let cookie = &sessions[s].1;
        async move {
            let r = ctx.get(replica, APIS[a].0, cookie).await;
            let status = r.status().as_u16();
            let body = r.json::<Value>().await.unwrap_or(Value::Null);
            (s, a, status, bearer(&body))
        }
    }))
    .await;

    let mut tokens: HashMap<(usize, usize), HashSet<String>> = HashMap::new();
    for (s, a, status, token) in answers {
        assert_eq!(status, 200, "session {s}, {}", APIS[a].0);
        assert_eq!(jwt_claims(&token).unwrap()["aud"], APIS[a].1);
        tokens.entry((s, a)).or_default().insert(token);
    }
    assert_eq!(ctx.provider.reuse_detected(), 0);
    assert_eq!(
        ctx.provider.call_count(),
        24,
        "one exchange per session and audience"
    );
    assert!(
        tokens.values().all(|t| t.len() == 1),
        "every request of a (session, audience) got the one token: {tokens:?}"
    );
    let presented: HashSet<String> = ctx
        .provider
        .calls()
        .iter()
        .filter_map(|c| c.field("refresh_token").map(str::to_owned))
        .collect();
    assert_eq!(presented.len(), 24, "no refresh token presented twice");

    // Redis holds every token and the live refresh token of each session.
    for (s, (session, _)) in sessions.iter().enumerate() {
        let record = load_record(&ctx.redis.url(), &session.sid).await.unwrap();
        assert_eq!(record.extra.len(), 3, "session {s}");
        assert!(ctx
            .provider
            .is_active(record.refresh_token.as_deref().unwrap()));
    }

    // A second wave is served from Redis on whichever replica: no call.
    let again = join_all(plan.iter().take(24).map(|&(s, a, replica)| {
        let ctx = &ctx;
        let cookie = &sessions[s].1;
        async move {
            let r = ctx.get((replica + 1) % 3, APIS[a].0, cookie).await;
            (s, a, r.status().as_u16(), bearer(&r.json().await.unwrap()))
        }
    }))
    .await;
    for (s, a, status, token) in again {
        assert_eq!(status, 200);
        assert!(tokens[&(s, a)].contains(&token));
    }
    assert_eq!(ctx.provider.call_count(), 24);
}

/// `GET /api/me` on every replica: the statuses.
async fn on_every_replica(ctx: &RedisCtx, cookie: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for replica in 0..ctx.gws.len() {
        out.push(ctx.get(replica, "/api/me", cookie).await.status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn backchannel_logout_ends_sessions_on_every_replica() {
    let ctx = setup(3, |b| b).await;
    let (_, a1) = ctx.mint("alice", "ps-1").await; // two gateway sessions of one provider
    let (_, a2) = ctx.mint("alice", "ps-1").await; // session (two tabs' logins)
    let (_, a3) = ctx.mint("alice", "ps-2").await; // alice on another device
    let (_, b1) = ctx.mint("bob", "ps-3").await;
    // Every replica has worked with every session (token exchanges and hits).
    for cookie in [&a1, &a2, &a3, &b1] {
        for replica in 0..3 {
            assert_eq!(ctx.get(replica, "/api/orders", cookie).await.status(), 200);
        }
    }

    let token = ctx.provider.logout_token(Some("ps-1"), Some("alice"));
    let r = ctx.backchannel(1, &[("logout_token", &token)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    for cookie in [&a1, &a2] {
        assert_eq!(on_every_replica(&ctx, cookie).await, [401, 401, 401]);
    }
    for cookie in [&a3, &b1] {
        assert_eq!(on_every_replica(&ctx, cookie).await, [200, 200, 200]);
    }

    // Only `sub`: every session of the user.
    let token = ctx.provider.logout_token(None, Some("alice"));
    assert_eq!(
        ctx.backchannel(2, &[("logout_token", &token)])
            .await
            .status(),
        200
    );
    assert_eq!(on_every_replica(&ctx, &a3).await, [401, 401, 401]);
    assert_eq!(on_every_replica(&ctx, &b1).await, [200, 200, 200]);
}

/// A user's index entry must live as long as the longest of their sessions, not the last saved.
#[tokio::test(flavor = "multi_thread")]
async fn backchannel_logout_finds_sessions_saved_before_a_shorter_one() {
    let ctx = setup(1, |b| b).await;
    let url = ctx.redis.url();
    let (_, long_by_sub) = ctx.mint("carol", "ps-c1").await;
    let (_, long_by_sid) = ctx.mint("dave", "ps-shared").await;
    // Sessions near the end of their absolute lifetime, saved afterwards (as the gateway does
    // after an exchange): their record lives 2 s.
    for (sub, psid) in [("carol", "ps-c2"), ("erin", "ps-shared")] {
        let mut s = user_session(&ctx.provider, sub, psid);
        s.created_at = now() - SEVEN_DAYS.as_secs() + 2;
        mint_redis_session(&url, &s, Duration::from_secs(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(3000)).await;

    let token = ctx.provider.logout_token(None, Some("carol"));
    assert_eq!(
        ctx.backchannel(0, &[("logout_token", &token)])
            .await
            .status(),
        200
    );
    assert_eq!(ctx.get(0, "/api/me", &long_by_sub).await.status(), 401);
    let token = ctx.provider.logout_token(Some("ps-shared"), None);
    assert_eq!(
        ctx.backchannel(0, &[("logout_token", &token)])
            .await
            .status(),
        200
    );
    assert_eq!(ctx.get(0, "/api/me", &long_by_sid).await.status(), 401);
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims.as_object_mut().unwrap().insert(key.into(), value);
    claims
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_or_malformed_logout_tokens_are_refused() {
    let ctx = setup(1, |b| b).await;
    let (s, cookie) = ctx.mint("frank", "ps-f").await;
    let valid = ctx.provider.logout_claims(Some("ps-f"), Some("frank"));
    let t = now();
    let hs256 = {
        tokengate::jwt_crypto::install();
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(KID.into());
        jsonwebtoken::encode(
            &h,
            &valid,
            &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let unsigned = {
        use base64::Engine;
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&valid))
    };
    let cases: Vec<(&str, String)> = vec![
        ("forged", sign(&valid, Signer::Forger)),
        (
            "expired",
            sign(
                &with(
                    with(valid.clone(), "iat", json!(t - 600)),
                    "exp",
                    json!(t - 480),
                ),
                Signer::Provider,
            ),
        ),
        (
            "issued in the future",
            sign(
                &with(valid.clone(), "iat", json!(t + 600)),
                Signer::Provider,
            ),
        ),
        (
            "no event",
            sign(&without(valid.clone(), "events"), Signer::Provider),
        ),
        (
            "another event",
            sign(
                &with(valid.clone(), "events", json!({"urn:other": {}})),
                Signer::Provider,
            ),
        ),
        (
            "with nonce",
            sign(
                &with(valid.clone(), "nonce", json!("n-1")),
                Signer::Provider,
            ),
        ),
        (
            "neither sid nor sub",
            sign(
                &without(without(valid.clone(), "sid"), "sub"),
                Signer::Provider,
            ),
        ),
        (
            "other audience",
            sign(
                &with(valid.clone(), "aud", json!("another-client")),
                Signer::Provider,
            ),
        ),
        (
            "other issuer",
            sign(
                &with(valid.clone(), "iss", json!("http://evil.example")),
                Signer::Provider,
            ),
        ),
        (
            "no iat",
            sign(&without(valid.clone(), "iat"), Signer::Provider),
        ),
        ("HS256 with the client secret", hs256),
        ("alg none", unsigned),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (what, token) in &cases {
        let r = ctx
            .backchannel(0, &[("logout_token", token.as_str())])
            .await;
        assert_eq!(
            status_and_json(r).await,
            (400, json!({"error": "invalid_logout_token"})),
            "{what}"
        );
    }
    let r = ctx.backchannel(0, &[("token", "x")]).await;
    assert_eq!(
        status_and_json(r).await,
        (400, json!({"error": "invalid_logout_token"})),
        "no logout_token"
    );
    let r = ctx.get(0, "/auth/backchannel-logout", &cookie).await;
    assert_eq!(r.status(), 405);

    // The session survived them all, and the valid token still works.
    assert!(load_record(&ctx.redis.url(), &s.sid).await.is_some());
    assert_eq!(ctx.get(0, "/api/me", &cookie).await.status(), 200);
    let r = ctx
        .backchannel(0, &[("logout_token", &sign(&valid, Signer::Provider))])
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(ctx.get(0, "/api/me", &cookie).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn backchannel_logout_with_the_cookie_store_is_501() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let gw = Gateway::start(&config(&provider, &support::redis_scenario::routes(&up)));
    let token = provider.logout_token(Some("ps-1"), Some("alice"));
    let r = client()
        .post(gw.url("/auth/backchannel-logout"))
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(r).await;
    assert_eq!(status, 501);
    assert_eq!(body["error"], "not_implemented");
}

/// A logout (front-channel on another replica, or back-channel) lands while an exchange of the
/// session is in flight at a slow provider: the exchange's write must not bring the session back,
/// in Redis or in the exchanging replica's memory. Deterministic: the provider answers after
/// 1.5 s and the logout is answered before that.
#[tokio::test(flavor = "multi_thread")]
async fn a_logout_during_an_exchange_stays_a_logout() {
    for backchannel in [false, true] {
        let ctx = setup(2, |mut b| {
            b.timeout = "10s";
            b
        })
        .await;
        let (s, cookie) = ctx.mint("dora", "ps-dora").await;
        ctx.provider
            .set_fault(Fault::Latency(Duration::from_millis(1500)));
        let exchange = {
            let request = ctx.http.get(ctx.gws[0].url("/api/orders"));
            let request = request.header("cookie", cookie.clone());
            tokio::spawn(async move { request.send().await.expect("answer").status().as_u16() })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(ctx.provider.call_count(), 1, "the exchange is in flight");
        let logout = if backchannel {
            let token = ctx.provider.logout_token(Some("ps-dora"), None);
            ctx.backchannel(1, &[("logout_token", &token)])
                .await
                .status()
        } else {
            ctx.get(1, "/auth/logout", &cookie).await.status()
        };
        assert!(logout.is_success() || logout.is_redirection(), "{logout}");
        assert_eq!(
            ctx.provider.call_count(),
            1,
            "the logout came before the answer"
        );
        let status = exchange.await.expect("task");
        assert_ne!(status, 200, "the exchange answered for an ended session");
        assert!(
            load_record(&ctx.redis.url(), &s.sid).await.is_none(),
            "backchannel={backchannel}: the exchange's write resurrected the record"
        );
        assert_eq!(
            on_every_replica(&ctx, &cookie).await,
            [401, 401],
            "backchannel={backchannel}"
        );
        assert_eq!(ctx.get(0, "/api/orders", &cookie).await.status(), 401);
    }
}
