//! The gateways under soak and what is measured of them: two gateways, each with its own mock
//! provider answering in 5–20 ms, one rotating the refresh token on every exchange and one on
//! every second exchange (counted over all sessions, as a provider that rotates conditionally),
//! both with a latest-state map bounded far below the sessions they serve.

use super::driver::{calls_per_family, cpu_secs, peak_rss_kib, Browser, Driver, AUDIENCES};
use super::support::*;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokengate::session::model::Session;

/// `tokens.latest_state_max_bytes`: room for about 17 sessions (about 7.5 KB each), twice as
/// many as each gateway has in progress at once, while it serves thousands: the map is full from
/// the start and evicts acknowledged sessions. At its minimum (room for 8) it also fills with
/// sessions it must keep, and a loaded machine spends most requests on `503 session_busy`.
pub const LATEST_BOUND: &str = "latest_state_max_bytes: 131072";

/// Sessions per store: `TOKENGATE_SOAK_SESSIONS` or 10,000.
pub fn sessions() -> usize {
    std::env::var("TOKENGATE_SOAK_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

pub struct Fleet {
    pub provider: MockProvider,
    pub gw: Gateway,
}

/// An upstream that answers every request `200 ok`: the soak is about sessions, and an echo of
/// every header would cost the test process more than the gateway's work.
pub async fn upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the upstream");
    let url = format!("http://{}", listener.local_addr().expect("upstream addr"));
    let app = axum::Router::new().fallback(|| async { "ok" });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// The two gateways, on the cookie store or (with `redis_url`) on one Redis, in front of the
/// upstream at `upstream`.
pub async fn start(upstream: &str, redis_url: Option<&str>) -> Vec<Fleet> {
    let routes: String = AUDIENCES
        .iter()
        .enumerate()
        .map(|(i, aud)| {
            route(
                &format!("r{i}"),
                &format!("/api/{i}"),
                upstream,
                &[&format!("audience: \"{aud}\""), "scope: \"read\""],
            )
        })
        .collect();
    let mut fleets = Vec::new();
    for every in [1, 2] {
        let provider = MockProvider::start().await;
        provider.set_rotate_every(every);
        provider.set_fault(Fault::Jitter(
            Duration::from_millis(5),
            Duration::from_millis(20),
        ));
        let mut cfg = ConfigBuilder::new(&provider, &routes)
            .max_cached(8)
            .tokens_line(LATEST_BOUND);
        // A timeout under load would leave the gateway unsure whether the provider rotated:
        // that is the outcome table's business, not the soak's.
        cfg.timeout = "5s";
        if let Some(url) = redis_url {
            cfg = cfg.redis(url);
        }
        // Warnings only: the access log line of every request would cost more than the soak's
        // other work in a debug build, and says nothing the counters do not.
        let gw = Gateway::start_with(&cfg.build(), &["run"], &[("RUST_LOG", "warn")]);
        fleets.push(Fleet { provider, gw });
    }
    fleets
}

/// Why a session counts as lost after the soak, from the state it ends with: `None` when the
/// state opens, holds the live refresh token of its family and a token for every audience.
pub fn check_state(fleets: &[Fleet], b: &Browser, state: Option<Session>) -> Option<String> {
    if let Some(why) = b.lost.lock().expect("lost").clone() {
        return Some(why);
    }
    let Some(s) = state else {
        return Some("the session no longer opens".into());
    };
    let rt = s.refresh_token.unwrap_or_default();
    if !fleets[b.gateway].provider.is_active(&rt) {
        return Some("its refresh token is not the live one".into());
    }
    let held: HashSet<&str> = s
        .extra
        .iter()
        .filter_map(|t| t.audience.as_deref())
        .collect();
    let missing = b.audiences.iter().any(|a| !held.contains(AUDIENCES[*a]));
    missing.then(|| "a token it obtained is missing".into())
}

/// The figures of one soak.
pub struct Report {
    pub store: &'static str,
    pub sessions: usize,
    pub requests: u64,
    pub calls: usize,
    /// One exchange per (session, audience): no session starts with a token for these
    /// audiences, and an access token outlives the soak, so a rotation never makes a held
    /// token invalid.
    pub minimum: usize,
    /// Sessions that made more exchanges than they have audiences.
    pub sessions_over_minimum: usize,
    pub reuse: u64,
    pub lost: usize,
    pub busy: u64,
    pub store_unavailable: u64,
    pub resent: u64,
    pub peak_rss_kib: Vec<u64>,
    /// CPU seconds of each gateway, and of the test process (client, providers, upstream).
    pub gateway_cpu: Vec<f64>,
    pub test_cpu: f64,
    pub secs: f64,
}

impl Report {
    /// Collects the figures once every session is done; `lost` from [`check_state`].
    pub fn collect(
        store: &'static str,
        fleets: &[Fleet],
        driver: &Arc<Driver>,
        browsers: &[Arc<Browser>],
        lost: usize,
        secs: f64,
    ) -> Report {
        let mut over = 0;
        for (g, fleet) in fleets.iter().enumerate() {
            let per = calls_per_family(&fleet.provider.calls());
            over += browsers
                .iter()
                .filter(|b| b.gateway == g)
                .filter(|b| per.get(&b.family).copied().unwrap_or(0) > b.audiences.len())
                .count();
        }
        let c = &driver.counters;
        Report {
            store,
            sessions: browsers.len(),
            requests: c.requests.load(Ordering::SeqCst),
            calls: fleets.iter().map(|f| f.provider.call_count()).sum(),
            minimum: browsers.iter().map(|b| b.audiences.len()).sum(),
            sessions_over_minimum: over,
            reuse: fleets.iter().map(|f| f.provider.reuse_detected()).sum(),
            lost,
            busy: c.busy.load(Ordering::SeqCst),
            store_unavailable: c.store_unavailable.load(Ordering::SeqCst),
            resent: c.resent.load(Ordering::SeqCst),
            peak_rss_kib: fleets.iter().map(|f| peak_rss_kib(f.gw.pid())).collect(),
            gateway_cpu: fleets.iter().map(|f| cpu_secs(f.gw.pid())).collect(),
            test_cpu: cpu_secs(std::process::id()),
            secs,
        }
    }

    /// The one-line summary the docs quote.
    pub fn line(&self) -> String {
        let rss: Vec<String> = (self.peak_rss_kib.iter())
            .map(|k| format!("{} MiB", k / 1024))
            .collect();
        format!(
            "soak {}: {} sessions, {} requests, {} token calls (minimum {}; {} sessions over it), \
             {} reuse detected, {} sessions lost, 503 session_busy {}, \
             503 session_store_unavailable {}, {} sent again after a connection reset, \
             peak RSS {}, {:.0} s \
             (CPU: gateways {:.0?} s, test process {:.0} s)",
            self.store,
            self.sessions,
            self.requests,
            self.calls,
            self.minimum,
            self.sessions_over_minimum,
            self.reuse,
            self.lost,
            self.busy,
            self.store_unavailable,
            self.resent,
            rss.join(" / "),
            self.secs,
            self.gateway_cpu,
            self.test_cpu,
        )
    }
}
