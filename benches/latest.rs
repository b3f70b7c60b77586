//! The latest-state map (docs/reference.md#concurrency-and-rotation): what a request pays to look
//! its session up, and how much memory the map holds per session that changed.
//! Run: `cargo bench --bench latest`.
//!
//! Memory is measured as the growth of the process's resident set while 30 000 changed sessions
//! (a primary and two more token sets of ~900-byte JWT-like tokens each, as a browser session with
//! three APIs holds) are put in the map, and printed once before the timing benches, with the
//! count the map keeps after 100 000 more (its byte bound).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::sync::Arc;
use tokengate::discovery::Discovery;
use tokengate::metrics::Metrics;
use tokengate::session::model::{now, Session, TokenSet, User};
use tokengate::tokens::broker::{Broker, TokenPolicy};

/// The cookie store's default limits are not what this measures: no cookie budget.
const POLICY: TokenPolicy = TokenPolicy {
    leeway: 60,
    max_cached: 16,
    latest_max_bytes: 1 << 30,
    cookie: None,
};
use tokengate::tokens::client::TokenClient;
use tokengate::tokens::scope::Scope;

fn token(aud: &str, i: usize) -> TokenSet {
    TokenSet {
        audience: Some(aud.to_owned()),
        scope: Scope::parse("read write"),
        requested: Scope::parse("read write"),
        access_token: format!("eyJ{}{i}", "x".repeat(900)),
        expires_at: now() + 3600,
        last_used: now(),
    }
}

fn session(i: usize) -> Session {
    let mut s = Session::new(
        User {
            sub: format!("user-{i}"),
            name: Some("Bench User".into()),
            email: Some("bench@example.com".into()),
            sid: Some(format!("psid-{i}")),
        },
        now(),
    );
    s.refresh_token = Some(format!("rt-{i}-{}", "r".repeat(48)));
    s.id_token = Some(format!("eyJ{}", "i".repeat(1000)));
    s.primary = Some(token("https://a.example", i));
    s.extra = vec![token("https://b.example", i), token("https://c.example", i)];
    s
}

fn broker() -> Broker {
    tokengate::app::install_crypto_provider();
    let http = reqwest::Client::new();
    let issuer = url::Url::parse("http://127.0.0.1:1").expect("static url");
    let client = TokenClient::new(http.clone(), Arc::new(Discovery::new(issuer, http)));
    Broker::new(client, Arc::new(Metrics::new()), None)
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Puts `n` changed sessions in the map; returns one of them (as its cookie would carry it).
fn fill(b: &Broker, n: usize) -> Session {
    let mut last = None;
    for i in 0..n {
        let s = session(i);
        let mut view = b.resolve(Arc::new(s.clone())).expect("live session");
        b.update(&mut view, POLICY, None, |s| s.last_seen += 1);
        last = Some(s);
    }
    last.expect("n > 0")
}

fn memory_report() {
    // Within the map's byte bound, so nothing is evicted while measuring.
    const N: usize = 30_000;
    let b = broker();
    let before = rss_bytes();
    fill(&b, N);
    let after = rss_bytes();
    let plaintext = serde_json::to_vec(&session(0))
        .map(|v| v.len())
        .unwrap_or(0);
    let per_session = (after - before) / N as u64;
    println!(
        "latest-state map: {} sessions held, resident set +{:.1} MiB, {} bytes per session \
         (= {:.0} MiB per 100 000; session JSON alone: {} bytes)",
        b.latest_len(),
        (after - before) as f64 / (1024.0 * 1024.0),
        per_session,
        per_session as f64 * 100_000.0 / (1024.0 * 1024.0),
        plaintext
    );
    // Past the byte bound the map evicts: 100 000 more sessions leave it bounded.
    fill(&b, 100_000);
    println!(
        "after 100 000 more: {} sessions held (bounded by the map's 256 MiB weight limit)",
        b.latest_len()
    );
}

fn lookups(c: &mut Criterion) {
    memory_report();
    let b = broker();
    let present = fill(&b, 10_000);
    let absent = session(999_999);
    c.bench_function(
        "latest/resolve, session in the map (stale cookie)",
        |bench| {
            bench.iter_batched(
                || present.clone(),
                |s| b.resolve(Arc::new(s)),
                BatchSize::SmallInput,
            )
        },
    );
    c.bench_function(
        "latest/resolve, session not in the map (current cookie)",
        |bench| {
            bench.iter_batched(
                || absent.clone(),
                |s| b.resolve(Arc::new(s)),
                BatchSize::SmallInput,
            )
        },
    );
}

criterion_group!(benches, lookups);
criterion_main!(benches);
