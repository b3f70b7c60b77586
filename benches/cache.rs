//! Cost of `tokens::cache::select`, the per-request hot path: a session with 16 additional tokens
//! (the default `tokens.max_cached`), hitting the last one, and missing all of them.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tokengate::session::model::{Session, TokenSet, User};
use tokengate::tokens::cache::{select, Selection};
use tokengate::tokens::scope::Scope;

const NOW: u64 = 1_700_000_000;
const LEEWAY: u64 = 60;

fn session_with_16_extra() -> Session {
    let mut session = Session::new(User::default(), NOW);
    session.primary = Some(TokenSet {
        audience: None,
        scope: Scope::parse("openid profile email offline_access"),
        requested: Scope::parse("openid profile email offline_access"),
        access_token: "primary".into(),
        expires_at: NOW + 3600,
        last_used: NOW,
    });
    session.extra = (0..16)
        .map(|i| TokenSet {
            audience: Some(format!("https://api{i}.example.com")),
            scope: Scope::parse("read:orders write:orders read:invoices"),
            requested: Scope::parse("read:orders write:orders"),
            access_token: format!("token-{i}"),
            expires_at: NOW + 3600,
            last_used: NOW,
        })
        .collect();
    session
}

fn bench_select(c: &mut Criterion) {
    let session = session_with_16_extra();
    let scope = Scope::parse("write:orders read:orders");
    c.bench_function("select hit on the 16th extra", |b| {
        b.iter(|| {
            let sel = select(
                black_box(&session),
                black_box(Some("https://api15.example.com")),
                black_box(&scope),
                NOW,
                LEEWAY,
            );
            assert!(matches!(sel, Selection::Hit(_)));
        })
    });
    c.bench_function("select miss among 16 extra", |b| {
        b.iter(|| {
            let sel = select(
                black_box(&session),
                black_box(Some("https://other.example.com")),
                black_box(&scope),
                NOW,
                LEEWAY,
            );
            assert!(matches!(sel, Selection::Miss));
        })
    });
}

criterion_group!(benches, bench_select);
criterion_main!(benches);
