//! The cache-hit path of one proxied request, without the network: read the session cookie from
//! the request headers (parse, join chunks, decrypt, check lifetime), look up the latest-state map,
//! select the route's token, and build the `Authorization` header. The target: well under
//! 10 µs of CPU. Run: `cargo bench --bench hit_path`.
//!
//! `hit path with policy and identity` adds what a route with a `require:` of three claims and
//! three `identity_headers` costs on that path (docs/reference.md#access-policy-and-identity):
//! evaluating the compiled policy against the session's claims and building the three header
//! values. Target: under 2 µs more than the same path without them.

use criterion::{criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokengate::config::IdentityHeader;
use tokengate::discovery::Discovery;
use tokengate::identity::headers::claim_value;
use tokengate::metrics::Metrics;
use tokengate::policy::glob::Glob;
use tokengate::policy::{evaluate, Policy, Requirement, Verdict};
use tokengate::session::claims::Claims;
use tokengate::session::codec::KeyRing;
use tokengate::session::cookie::chunks::{chunk_name, split_chunks};
use tokengate::session::cookie::{CookieSession, SessionCookies};
use tokengate::session::lifetime::Lifetime;
use tokengate::session::model::{now, Session, TokenSet, User};
use tokengate::session::opened::OpenedSessions;
use tokengate::tokens::broker::Broker;
use tokengate::tokens::cache::{select, Selection};
use tokengate::tokens::scope::Scope;

const NAME: &str = "tokengate";

fn token(aud: &str) -> TokenSet {
    TokenSet {
        audience: Some(aud.to_owned()),
        scope: Scope::parse("read:orders"),
        requested: Scope::parse("read:orders"),
        access_token: format!("eyJ{}", "x".repeat(900)),
        expires_at: now() + 3600,
        last_used: now(),
    }
}

/// A logged-in session as the demo makes it: refresh token, ID token, the login token, and
/// `extra` more token sets.
fn cookie_header(keys: &KeyRing, extra: usize) -> HeaderMap {
    cookie_header_with(keys, extra, Claims::default())
}

/// [`cookie_header`] for a session that also keeps `claims`.
fn cookie_header_with(keys: &KeyRing, extra: usize, claims: Claims) -> HeaderMap {
    let mut s = Session::new(
        User {
            sub: "alice".into(),
            name: Some("Alice".into()),
            email: Some("alice@example.com".into()),
            sid: Some("psid".into()),
        },
        now(),
    );
    s.claims = claims;
    s.refresh_token = Some("r".repeat(60));
    s.id_token = Some(format!("eyJ{}", "i".repeat(1000)));
    s.primary = Some(token("https://orders.example"));
    s.extra = (0..extra)
        .map(|i| token(&format!("https://api{i}.example")))
        .collect();
    let sealed = keys.seal_session(NAME, &s).expect("seal");
    let header = split_chunks(&sealed)
        .iter()
        .enumerate()
        .map(|(k, v)| format!("{}={v}", chunk_name(NAME, k)))
        .chain(["other=1".to_owned()])
        .collect::<Vec<_>>()
        .join("; ");
    let mut h = HeaderMap::new();
    h.insert(
        http::header::COOKIE,
        HeaderValue::from_str(&header).expect("ascii"),
    );
    h
}

fn hit_path(c: &mut Criterion) {
    tokengate::app::install_crypto_provider();
    let keys = KeyRing::new(&[[7u8; 32]]).expect("key");
    let lifetime = Lifetime {
        absolute: Duration::from_secs(7 * 86400),
        idle: None,
    };
    let http = reqwest::Client::new();
    let issuer = url::Url::parse("http://127.0.0.1:1").expect("static url");
    let client = tokengate::tokens::client::TokenClient::new(
        http.clone(),
        Arc::new(Discovery::new(issuer, http)),
    );
    let broker = Broker::new(client, Arc::new(Metrics::new()), None);
    let scope = Scope::parse("read:orders");
    let cookies = SessionCookies {
        name: NAME.to_owned(),
        secure: false,
        reference: false,
        max_chunks: 16,
    };
    for extra in [0usize, 7] {
        let headers = cookie_header(&keys, extra);
        // A browser repeats its cookie: after its first request the session is already opened
        // (`session::opened`); the first request opens it.
        for (label, opened) in [
            ("already opened", OpenedSessions::new()),
            ("opened", OpenedSessions::uncached()),
        ] {
            c.bench_function(
                &format!("hit path, session with {} token sets, {label}", extra + 1),
                |b| {
                    b.iter(|| {
                        let t = now();
                        let CookieSession::Valid { session, .. } =
                            cookies.reader(&keys, &opened, &lifetime).read(&headers, t)
                        else {
                            panic!("the bench cookie opens");
                        };
                        let view = broker.resolve(session).expect("live");
                        match select(&view.session, Some("https://orders.example"), &scope, t, 60) {
                            Selection::Hit(tok) => format!("Bearer {}", tok.access_token),
                            _ => panic!("the bench session holds the token"),
                        }
                    })
                },
            );
        }
    }
}

/// Three requirements (an array claim with a list, a glob on `email`, a boolean) and three
/// identity headers, as a typical admin route has them.
fn policy_and_headers() -> (Policy, Vec<IdentityHeader>) {
    let req = |claim: &str, values: &[&str]| Requirement {
        claim: claim.to_owned(),
        accepted: values.iter().map(|v| Glob::new(v)).collect(),
    };
    let policy = Policy::new(vec![
        req("groups", &["admins", "ops"]),
        req("email", &["*@example.com"]),
        req("email_verified", &["true"]),
    ]);
    let header = |name: &'static str, claim: &str| IdentityHeader {
        name: http::HeaderName::from_static(name),
        claim: claim.to_owned(),
    };
    let headers = vec![
        header("x-user-id", "sub"),
        header("x-user-email", "email"),
        header("x-user-groups", "groups"),
    ];
    (policy, headers)
}

fn hit_path_with_policy(c: &mut Criterion) {
    tokengate::app::install_crypto_provider();
    let keys = KeyRing::new(&[[7u8; 32]]).expect("key");
    let lifetime = Lifetime {
        absolute: Duration::from_secs(7 * 86400),
        idle: None,
    };
    let http = reqwest::Client::new();
    let issuer = url::Url::parse("http://127.0.0.1:1").expect("static url");
    let client = tokengate::tokens::client::TokenClient::new(
        http.clone(),
        Arc::new(Discovery::new(issuer, http)),
    );
    let broker = Broker::new(client, Arc::new(Metrics::new()), None);
    let scope = Scope::parse("read:orders");
    let cookies = SessionCookies {
        name: NAME.to_owned(),
        secure: false,
        reference: false,
        max_chunks: 16,
    };
    let source = serde_json::json!({
        "groups": ["staff", "ops", "eng", "oncall", "admins"],
        "email_verified": true,
    });
    let used = ["groups".to_owned(), "email_verified".to_owned()].into();
    let claims = Claims::keep(source.as_object().expect("an object"), &used);
    let headers = cookie_header_with(&keys, 0, claims);
    let opened = OpenedSessions::new();
    let (policy, identity) = policy_and_headers();
    let CookieSession::Valid { session, .. } = cookies
        .reader(&keys, &opened, &lifetime)
        .read(&headers, now())
    else {
        panic!("the bench cookie opens");
    };
    c.bench_function("policy and identity alone (3 claims, 3 headers)", |b| {
        b.iter(|| {
            assert_eq!(evaluate(&policy, session.as_ref()), Verdict::Allow);
            identity
                .iter()
                .filter_map(|h| Some((h.name.clone(), claim_value(session.as_ref(), &h.claim)?)))
                .collect::<Vec<_>>()
        })
    });
    for with in [false, true] {
        let label = if with { "with" } else { "without" };
        c.bench_function(
            &format!("hit path {label} policy and identity (3 claims, 3 headers)"),
            |b| {
                b.iter(|| {
                    let t = now();
                    let CookieSession::Valid { session, .. } =
                        cookies.reader(&keys, &opened, &lifetime).read(&headers, t)
                    else {
                        panic!("the bench cookie opens");
                    };
                    let view = broker.resolve(session).expect("live");
                    let mut out = Vec::new();
                    if with {
                        assert_eq!(evaluate(&policy, view.session.as_ref()), Verdict::Allow);
                        for h in &identity {
                            if let Some(v) = claim_value(view.session.as_ref(), &h.claim) {
                                out.push((h.name.clone(), v));
                            }
                        }
                    }
                    match select(&view.session, Some("https://orders.example"), &scope, t, 60) {
                        Selection::Hit(tok) => (format!("Bearer {}", tok.access_token), out),
                        _ => panic!("the bench session holds the token"),
                    }
                })
            },
        );
    }
}

criterion_group!(benches, hit_path, hit_path_with_policy);
criterion_main!(benches);
