//! A thousand mutations of a valid session cookie and a thousand random request paths through the
//! running gateway (seeded, so a failure replays): none may produce a 5xx (a bad cookie is never a
//! 5xx, docs/reference.md#proxying-a-request), and a mutated cookie either opens to the authentic
//! session or is no session at all.

use crate::support::{client, cookie_for, session_for, token_set, COOKIE};
use crate::wire::exchange;
use crate::{Stand, PRIMARY};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const SEED: u64 = 0x7061_7468;
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const NOISE: &[u8] = b"ABCxyz019-_=;., \t\"%";

/// A valid session in three chunks, as `NAME=..; NAME.1=..; NAME.2=..`.
fn chunked_cookie(s: &Stand) -> String {
    let mut session = session_for(&s.provider.mint_refresh_token(), PRIMARY);
    let exp = tokengate::session::model::now() + 3600;
    for i in 0..3 {
        let aud = format!("https://svc{i}.example");
        session
            .extra
            .push(token_set(Some(&aud), "", &"t".repeat(2200), exp));
    }
    cookie_for(&session)
}

fn pick(rng: &mut StdRng, set: &[u8]) -> char {
    char::from(set[rng.random_range(0..set.len())])
}

/// One random change to a `Cookie` header value; the result is still a valid header value.
fn mutate(rng: &mut StdRng, cookie: &str) -> String {
    let mut pairs: Vec<(String, String)> = cookie
        .split("; ")
        .filter_map(|p| p.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let mut text = cookie.to_owned();
    let at = |rng: &mut StdRng, s: &str| rng.random_range(0..=s.len());
    // The pair-wise changes need a pair; an earlier change may have left none.
    let op = if pairs.is_empty() {
        2
    } else {
        rng.random_range(0..10)
    };
    match op {
        0 => {
            // A tamper inside a value: one base64 character changed.
            let k = rng.random_range(0..pairs.len());
            let v = &mut pairs[k].1;
            if !v.is_empty() {
                let i = rng.random_range(0..v.len());
                v.replace_range(i..=i, &pick(rng, B64).to_string());
            }
            return join(&pairs);
        }
        1 => {
            let start = at(rng, &text);
            let end = (start + rng.random_range(1..60)).min(text.len());
            text.replace_range(start..end, "");
        }
        2 => {
            let noise: String = (0..rng.random_range(1..8))
                .map(|_| pick(rng, NOISE))
                .collect();
            let i = at(rng, &text);
            text.insert_str(i, &noise);
        }
        3 => text.truncate(at(rng, &text)),
        4 => {
            // A chunk renamed: another index, a leading zero, or a case change.
            let k = rng.random_range(0..pairs.len());
            pairs[k].0 = match rng.random_range(0..3) {
                0 => format!("{COOKIE}.{}", rng.random_range(0..20)),
                1 => format!("{COOKIE}.0{k}"),
                _ => pairs[k].0.to_uppercase(),
            };
            return join(&pairs);
        }
        5 => {
            pairs.remove(rng.random_range(0..pairs.len()));
            return join(&pairs);
        }
        6 => {
            let (a, b) = (
                rng.random_range(0..pairs.len()),
                rng.random_range(0..pairs.len()),
            );
            let va = pairs[a].1.clone();
            pairs[a].1 = std::mem::replace(&mut pairs[b].1, va);
            return join(&pairs);
        }
        7 => {
            // A second cookie with a chunk's name (another path's cookie), before or after.
            let k = rng.random_range(0..pairs.len());
            let dup = (pairs[k].0.clone(), "AQ".repeat(rng.random_range(1..40)));
            let i = rng.random_range(0..=pairs.len());
            pairs.insert(i, dup);
            return join(&pairs);
        }
        8 => {
            let k = rng.random_range(1..40);
            text.push_str(&format!(
                "; {COOKIE}.{k}={}",
                "A".repeat(rng.random_range(0..100))
            ));
        }
        _ => {
            // The order of the pairs (browsers may send them in any order): still valid.
            let k = rng.random_range(0..pairs.len());
            let p = pairs.remove(k);
            pairs.push(p);
            return join(&pairs);
        }
    }
    text
}

fn join(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_mutated_cookies_never_give_a_5xx() {
    let s = Stand::start("").await;
    let valid = chunked_cookie(&s);
    let mut rng = StdRng::seed_from_u64(SEED);
    let c = client();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for i in 0..1000 {
        let mut cookie = valid.clone();
        for _ in 0..rng.random_range(1..=3) {
            cookie = mutate(&mut rng, &cookie);
        }
        let r = c
            .get(s.gw.url("/api/x"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("#{i} {cookie:?}: {e}"));
        let status = r.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        assert!(status < 500, "#{i}: {status} for {cookie:?}");
        if status == 200 {
            let body: serde_json::Value = r.json().await.expect("echo JSON");
            assert_eq!(
                body["headers"]["authorization"],
                serde_json::json!([format!("Bearer {PRIMARY}")]),
                "#{i}: a mutated cookie opened to another session: {cookie:?}"
            );
        }
    }
    // Both outcomes occur, and nothing else: the mutations reached the codec.
    assert_eq!(
        statuses.keys().copied().collect::<Vec<_>>(),
        vec![200, 401],
        "{statuses:?}"
    );
    assert!(statuses[&401] > 500, "{statuses:?}");
    assert_eq!(s.provider.call_count(), 0);
}

/// Path segments that exercise normalisation, escapes, routing and the gateway's own paths.
const PIECES: &[&str] = &[
    "api",
    "open",
    "opt",
    "auth",
    "session",
    "login",
    "callback",
    "logout",
    "x",
    "",
    "..",
    ".",
    "%2e",
    "%2E%2e",
    ".%2e",
    "%2F",
    "%2f",
    "%5C",
    "%",
    "%4",
    "%zz",
    "%41",
    "%7e",
    "%7E",
    "~",
    "%00",
    "%ff",
    "%C3%A9",
    "-_",
    ";v=1",
    "a=b",
    "@",
    ":",
    "!$&'()*+,",
    "%25",
    "%252F",
    "\"",
    "<>",
    "{}",
    "|",
    "`",
    "^",
    "[]",
    "\\",
    "#",
];

fn random_target(rng: &mut StdRng) -> String {
    let mut path = String::new();
    for _ in 0..rng.random_range(1..7) {
        path.push('/');
        path.push_str(PIECES[rng.random_range(0..PIECES.len())]);
        if rng.random_bool(0.2) {
            path.push_str(PIECES[rng.random_range(0..PIECES.len())]);
        }
    }
    if rng.random_bool(0.2) {
        path.push_str("?returnTo=");
        path.push_str(PIECES[rng.random_range(0..PIECES.len())]);
    }
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_random_paths_never_give_a_5xx() {
    let s = Stand::start("").await;
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for i in 0..1000 {
        let target = random_target(&mut rng);
        let cookie = if rng.random_bool(0.5) {
            format!("Cookie: {}\r\n", s.cookie)
        } else {
            String::new()
        };
        let raw = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{cookie}Connection: close\r\n\r\n",
            s.port()
        );
        let r = exchange(s.port(), raw.as_bytes())
            .await
            .unwrap_or_else(|| panic!("#{i} {target:?}: closed without an answer"));
        *statuses.entry(r.status).or_default() += 1;
        assert!(
            r.status < 500,
            "#{i}: {} for {target:?}: {}",
            r.status,
            r.body
        );
    }
    for expected in [200, 400, 401, 404] {
        assert!(
            statuses.contains_key(&expected),
            "no {expected}: {statuses:?}"
        );
    }
}
