//! Cost and size of the session cookie: every request with a session opens it, and every
//! response whose session changed seals it again. Sessions of 1 and 8 token sets bracket what
//! a browser app holds (a login token, then one per API it calls).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tokengate::session::codec::KeyRing;
use tokengate::session::cookie::chunks::split_chunks;
use tokengate::session::model::{Session, TokenSet, User};
use tokengate::tokens::scope::Scope;

/// A base64url string of `len` characters that does not repeat, like a signed token's parts.
fn token_text(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            // xorshift64: enough to make the text incompressible-looking, deterministic per seed.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % 64) as usize])
        })
        .collect()
}

/// A JWT-shaped string: header.payload.signature, about `len` characters in all.
fn jwt(seed: u64, len: usize) -> String {
    let sig = 342; // an RS256 signature, base64url
    let header = 100;
    format!(
        "{}.{}.{}",
        token_text(seed, header),
        token_text(seed + 1, len - header - sig - 2),
        token_text(seed + 2, sig)
    )
}

fn session(token_sets: usize) -> Session {
    let token = |i: usize| TokenSet {
        audience: Some(format!("https://api{i}.example.com")),
        scope: Scope::parse("openid profile read:orders write:orders"),
        requested: Scope::parse("read:orders write:orders"),
        access_token: jwt(i as u64 * 10, 900),
        expires_at: 1_760_003_600,
        last_used: 1_760_000_000,
    };
    let mut s = Session::new(
        User {
            sub: "auth0|65a1b2c3d4e5f60718293a4b".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            sid: Some("Jx2kLw9RtP0qZ3vB7nYc".into()),
        },
        1_760_000_000,
    );
    s.refresh_token = Some(token_text(999, 60));
    s.id_token = Some(jwt(1000, 1024));
    s.primary = Some(token(0));
    s.extra = (1..token_sets).map(token).collect();
    s
}

fn bench(c: &mut Criterion) {
    let ring = match KeyRing::new(&[[7u8; 32], [9u8; 32]]) {
        Ok(ring) => ring,
        Err(e) => panic!("key ring: {e}"),
    };
    let mut group = c.benchmark_group("session_codec");
    for sets in [1usize, 8] {
        let s = session(sets);
        let sealed = match ring.seal_session("tokengate", &s) {
            Ok(sealed) => sealed,
            Err(e) => panic!("seal: {e}"),
        };
        eprintln!(
            "{sets} token set(s): sealed {} bytes in {} chunk(s)",
            sealed.len(),
            split_chunks(&sealed).len()
        );
        group.bench_with_input(BenchmarkId::new("seal", sets), &s, |b, s| {
            b.iter(|| ring.seal_session("tokengate", black_box(s)))
        });
        group.bench_with_input(BenchmarkId::new("open", sets), &sealed, |b, sealed| {
            b.iter(|| ring.open_session("tokengate", black_box(sealed)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
