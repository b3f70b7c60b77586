//! Claims with the Redis store (docs/reference.md#access-policy-and-identity): a refresh whose
//! answer carries a new ID token updates the claims in the session's record, under the session's
//! lock, so a user added to a group at the provider passes a `require:` from the next request on
//! every replica, and a removed group is noticed; an ID token of another subject, or one the
//! provider's keys did not sign, changes nothing.

mod support;

use serde_json::{json, Value};
use support::redis_scenario::{RedisCtx, SEVEN_DAYS};
use support::redis_server::{load_record, mint_redis_session, RedisServer};
use support::signing::Signer;
use support::*;
use tokengate::session::claims::Claims;
use tokengate::session::model::Session;

/// Two replicas on one Redis, with the shared routes and `/admin` requiring group `admins`.
async fn setup() -> RedisCtx {
    let redis = RedisServer::start();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let routes = support::redis_scenario::routes(&up)
        + &route(
            "admin",
            "/admin",
            &up.url(),
            &["require:", "  groups: [admins]"],
        );
    let cfg = ConfigBuilder::new(&provider, &routes).redis(&redis.url());
    let gws = vec![
        Gateway::start(&cfg.build()),
        Gateway::start(&cfg.replica().build()),
    ];
    RedisCtx {
        redis,
        provider,
        up,
        cfg,
        gws,
        http: client(),
    }
}

/// A session of user `alice` in groups `groups`, stored in Redis; with its cookie.
async fn alice(ctx: &RedisCtx, groups: Value) -> (Session, String) {
    let mut s = support::redis_scenario::user_session(&ctx.provider, "alice", "psid-alice");
    let source = json!({ "groups": groups });
    let used = ["groups".to_owned()].into();
    s.claims = Claims::keep(source.as_object().expect("an object"), &used);
    let cookie = mint_redis_session(&ctx.redis.url(), &s, SEVEN_DAYS).await;
    (s, cookie)
}

/// The status of `GET /admin` on each replica.
async fn admin_on_both(ctx: &RedisCtx, cookie: &str) -> [u16; 2] {
    let mut out = [0; 2];
    for (replica, status) in out.iter_mut().enumerate() {
        *status = ctx.get(replica, "/admin", cookie).await.status().as_u16();
    }
    out
}

/// The provider answers refreshes with an ID token of `sub` in `groups`, signed by `signer`.
fn next_id_token(ctx: &RedisCtx, sub: &str, groups: Value, signer: Signer) {
    let claims = ctx
        .provider
        .id_token_claims(sub, json!({ "groups": groups }));
    ctx.provider.set_id_token(Some((claims, signer)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_with_a_new_id_token_updates_the_claims_on_every_replica() {
    let ctx = setup().await;
    let (s, cookie) = alice(&ctx, json!(["staff"])).await;
    assert_eq!(admin_on_both(&ctx, &cookie).await, [403, 403]);

    // Added to `admins` at the provider: the next refresh (on replica 0) brings it.
    next_id_token(&ctx, "alice", json!(["staff", "admins"]), Signer::Provider);
    assert_eq!(ctx.get(0, "/api/orders", &cookie).await.status(), 200);
    assert_eq!(ctx.provider.call_count(), 1);
    assert_eq!(admin_on_both(&ctx, &cookie).await, [200, 200]);
    let record = load_record(&ctx.redis.url(), &s.sid).await.expect("record");
    assert_eq!(record.claims.held["groups"], json!(["staff", "admins"]));

    // Removed again: a refresh on replica 1 is noticed by both.
    next_id_token(&ctx, "alice", json!(["staff"]), Signer::Provider);
    assert_eq!(ctx.get(1, "/api/reports", &cookie).await.status(), 200);
    assert_eq!(ctx.provider.call_count(), 2);
    assert_eq!(admin_on_both(&ctx, &cookie).await, [403, 403]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_id_token_of_another_subject_or_not_signed_by_the_provider_keeps_the_claims() {
    let ctx = setup().await;
    let cases = [
        ("mallory", Signer::Provider, "another subject"),
        ("alice", Signer::Forger, "a forged signature"),
    ];
    for (sub, signer, case) in cases {
        let (s, cookie) = alice(&ctx, json!(["staff"])).await;
        next_id_token(&ctx, sub, json!(["admins"]), signer);
        let before = ctx.provider.call_count();
        assert_eq!(ctx.get(0, "/api/orders", &cookie).await.status(), 200);
        assert_eq!(ctx.provider.call_count(), before + 1, "{case}");
        assert_eq!(admin_on_both(&ctx, &cookie).await, [403, 403], "{case}");
        let record = load_record(&ctx.redis.url(), &s.sid).await.expect("record");
        assert_eq!(record.claims.held["groups"], json!(["staff"]), "{case}");
        assert_ne!(record.refresh_token, s.refresh_token, "{case}: rotated");
    }
    let logs = ctx.gws[0].logs();
    assert!(logs.contains("claims kept"), "the refusals are logged");
    assert!(!logs.contains("mallory"), "no claim value is logged");
}
