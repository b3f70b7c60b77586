//! `grant: token_exchange` with `store: redis` across replicas (docs/reference.md#token-grants):
//! parallel requests of one session on two gateways share one exchange, and the session's
//! refresh token is neither presented nor replaced.

mod support;

use futures_util::future::join_all;
use support::provider::grants::TOKEN_EXCHANGE;
use support::provider::{jwt_claims, Fault};
use support::redis_scenario::{setup, status_and_json};
use support::scenario::bearer;
use support::*;

const LEDGER_AUD: &str = "https://ledger.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_on_two_replicas_share_one_token_exchange() {
    let ctx = setup(2, |b| {
        let upstream = b
            .routes_yaml
            .split("upstream: \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the scenario's upstream")
            .to_owned();
        let ledger = route(
            "ledger",
            "/api/ledger",
            &upstream,
            &[
                "grant: token_exchange",
                &format!("audience: \"{LEDGER_AUD}\""),
                "scope: \"read:ledger\"",
            ],
        );
        ConfigBuilder {
            routes_yaml: b.routes_yaml.clone() + &ledger,
            ..b
        }
    })
    .await;
    let (session, cookie) = ctx.mint("user-1", "psid-1").await;
    let rt = session
        .refresh_token
        .clone()
        .expect("minted with a refresh token");
    ctx.provider
        .set_fault(Fault::Latency(std::time::Duration::from_millis(300)));
    let (ctx, cookie) = (&ctx, &cookie);
    let answers = join_all((0..32).map(|i| async move {
        let (status, body) = status_and_json(ctx.get(i % 2, "/api/ledger", cookie).await).await;
        (status, bearer(&body))
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    assert!(answers.iter().all(|(_, t)| *t == answers[0].1));
    assert_eq!(jwt_claims(&answers[0].1).unwrap()["aud"], LEDGER_AUD);
    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].field("grant_type"), Some(TOKEN_EXCHANGE));
    assert!(
        ctx.provider.is_active(&rt),
        "the refresh token is untouched"
    );
    assert_eq!(ctx.provider.reuse_detected(), 0);
}
