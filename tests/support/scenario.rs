//! The scenario most token tests share: a gateway with four routes (the login audience, two
//! routes on the orders API with different scopes, a reports API), an echo upstream behind them,
//! and a minted session holding an active refresh token of the mock provider.

use super::*;
use serde_json::Value;

pub const ORDERS_AUD: &str = "https://orders.example";
pub const REPORTS_AUD: &str = "https://reports.example";

pub struct Ctx {
    pub provider: MockProvider,
    pub up: EchoUpstream,
    pub gw: Gateway,
    /// The refresh token the minted session holds.
    pub rt: String,
    /// The minted session's `Cookie` header value.
    pub cookie: String,
}

pub fn routes(up: &EchoUpstream) -> String {
    let u = up.url();
    route("me", "/api/me", &u, &[])
        + &route(
            "orders",
            "/api/orders",
            &u,
            &[
                &format!("audience: \"{ORDERS_AUD}\""),
                "scope: \"read:orders\"",
            ],
        )
        + &route(
            "orders-write",
            "/api/orders-write",
            &u,
            &[
                &format!("audience: \"{ORDERS_AUD}\""),
                "scope: \"read:orders write:orders\"",
            ],
        )
        + &route(
            "reports",
            "/api/reports",
            &u,
            &[
                &format!("audience: \"{REPORTS_AUD}\""),
                "scope: \"read:reports\"",
            ],
        )
}

pub async fn setup_with(tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Ctx {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let yaml = tune(ConfigBuilder::new(&provider, &routes(&up))).build();
    let gw = Gateway::start(&yaml);
    let rt = provider.mint_refresh_token();
    let cookie = cookie_for(&session_for(&rt, "primary-token"));
    Ctx {
        provider,
        up,
        gw,
        rt,
        cookie,
    }
}

pub async fn setup() -> Ctx {
    setup_with(|b| b).await
}

pub async fn get(ctx: &Ctx, path: &str, cookie: &str) -> reqwest::Response {
    client()
        .get(ctx.gw.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub fn bearer(body: &Value) -> String {
    body["headers"]["authorization"][0]
        .as_str()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}
