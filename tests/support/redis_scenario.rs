//! The scenario the Redis tests share: one real `redis-server`, the mock provider, an echo
//! upstream, and one or more gateway replicas with `session.store: redis` on that Redis. Routes:
//! those of [`scenario::routes`](super::scenario::routes), a third API (`/api/billing`) so that a
//! session can need three audiences, and `/public` with `auth: none`.

use super::redis_server::{mint_redis_session, RedisServer};
use super::scenario::{ORDERS_AUD, REPORTS_AUD};
use super::*;
use std::time::Duration;
use tokengate::session::model::{Session, User};

pub const BILLING_AUD: &str = "https://billing.example";

/// The three non-login APIs: (path, audience).
pub const APIS: [(&str, &str); 3] = [
    ("/api/orders", ORDERS_AUD),
    ("/api/reports", REPORTS_AUD),
    ("/api/billing", BILLING_AUD),
];

/// The lifetime records are minted with: the configs' `absolute_lifetime`.
pub const SEVEN_DAYS: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct RedisCtx {
    pub redis: RedisServer,
    pub provider: MockProvider,
    pub up: EchoUpstream,
    /// The first replica's config (the others differ only in ports).
    pub cfg: ConfigBuilder,
    pub gws: Vec<Gateway>,
    /// One client for every request, so a storm does not build a TLS setup per request.
    pub http: reqwest::Client,
}

pub fn routes(up: &EchoUpstream) -> String {
    let u = up.url();
    super::scenario::routes(up)
        + &route(
            "billing",
            "/api/billing",
            &u,
            &[&format!("audience: \"{BILLING_AUD}\"")],
        )
        + &route("public", "/public", &u, &["auth: none"])
}

/// `replicas` gateways on one fresh Redis; `tune` adjusts the shared config.
pub async fn setup(replicas: usize, tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> RedisCtx {
    let redis = RedisServer::start();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let cfg = tune(ConfigBuilder::new(&provider, &routes(&up)).redis(&redis.url()));
    let mut gws = vec![Gateway::start(&cfg.build())];
    for _ in 1..replicas {
        gws.push(Gateway::start(&cfg.replica().build()));
    }
    RedisCtx {
        redis,
        provider,
        up,
        cfg,
        gws,
        http: client(),
    }
}

/// A logged-in session of user `sub` in provider session `psid`: an active refresh token of a
/// new family and a primary token (`primary-<sid>`) for the login audience, valid for an hour.
pub fn user_session(provider: &MockProvider, sub: &str, psid: &str) -> Session {
    let rt = provider.mint_refresh_token();
    let mut s = session_for(&rt, "primary");
    s.user = User {
        sub: sub.to_owned(),
        name: None,
        email: Some(format!("{sub}@example.com")),
        sid: Some(psid.to_owned()),
    };
    if let Some(p) = s.primary.as_mut() {
        p.access_token = format!("primary-{}", s.sid);
    }
    s
}

impl RedisCtx {
    pub fn gw(&self) -> &Gateway {
        &self.gws[0]
    }

    /// Stores a new [`user_session`] in Redis; returns it with the cookie that refers to it.
    pub async fn mint(&self, sub: &str, psid: &str) -> (Session, String) {
        let s = user_session(&self.provider, sub, psid);
        let cookie = self.store(&s).await;
        (s, cookie)
    }

    /// Stores `s` in Redis for the rest of its absolute lifetime; returns its cookie.
    pub async fn store(&self, s: &Session) -> String {
        mint_redis_session(&self.redis.url(), s, SEVEN_DAYS).await
    }

    /// `GET path` on replica `replica` with `cookie`.
    pub async fn get(&self, replica: usize, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(self.gws[replica].url(path))
            .header("cookie", cookie)
            .send()
            .await
            .expect("gateway answers")
    }

    /// `POST /auth/backchannel-logout` on replica `replica` with the form body `form`.
    pub async fn backchannel(&self, replica: usize, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.gws[replica].url("/auth/backchannel-logout"))
            .form(form)
            .send()
            .await
            .expect("gateway answers")
    }
}

/// The status and JSON body of a response (the body `null` when it is empty or not JSON).
pub async fn status_and_json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}
