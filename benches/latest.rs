//! The latest-state map (issue 4): what a request pays to look its session up, and how much memory
//! the map holds per session that changed. Run: `cargo bench --bench latest`.
//!
//! Memory is measured as the growth of the process's resident set while 100 000 changed sessions
//! (a primary and two more token sets of ~900-byte JWT-like tokens each, as a browser session with
//! three APIs holds) are put in the map, and printed once before the timing benches.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::sync::Arc;
use tokengate::metrics::Metrics;
use tokengate::oidc::discovery::Discovery;
use tokengate::session::model::{now, Session, TokenSet, User};
use tokengate::tokens::broker::Broker;
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
        let mut view = b.resolve(s.clone()).expect("live session");
        b.update(&mut view, |s| s.last_seen += 1);
        last = Some(s);
    }
    last.expect("n > 0")
}

fn memory_report() {
    const N: usize = 100_000;
    let b = broker();
    let before = rss_bytes();
    fill(&b, N);
    let after = rss_bytes();
    let plaintext = serde_json::to_vec(&session(0))
        .map(|v| v.len())
        .unwrap_or(0);
    println!(
        "latest-state map: {} sessions, resident set +{:.1} MiB, {} bytes per session (session JSON alone: {} bytes)",
        b.latest_len(),
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) / N as u64,
        plaintext
    );
}

fn lookups(c: &mut Criterion) {
    memory_report();
    let b = broker();
    let present = fill(&b, 10_000);
    let absent = session(999_999);
    c.bench_function(
        "latest/resolve, session in the map (stale cookie)",
        |bench| bench.iter_batched(|| present.clone(), |s| b.resolve(s), BatchSize::SmallInput),
    );
    c.bench_function(
        "latest/resolve, session not in the map (current cookie)",
        |bench| bench.iter_batched(|| absent.clone(), |s| b.resolve(s), BatchSize::SmallInput),
    );
}

criterion_group!(benches, lookups);
criterion_main!(benches);
