use super::*;
use crate::scope::Scope;
use crate::session::cookie::budget::CookieBudget;
use crate::session::model::User;

fn tok(aud: &str, size: usize, last_used: u64) -> TokenSet {
    TokenSet {
        audience: Some(aud.to_owned()),
        scope: Scope::parse("read"),
        requested: Scope::parse("read"),
        access_token: "t".repeat(size),
        expires_at: 2_000_000,
        last_used,
    }
}

fn session(extra: Vec<TokenSet>) -> Session {
    let mut s = Session::new(User::default(), 0);
    s.refresh_token = Some("rt".to_owned());
    s.primary = Some(tok("login", 1500, 0));
    s.extra = extra;
    s
}

fn auds(s: &Session) -> Vec<&str> {
    s.extra
        .iter()
        .filter_map(|t| t.audience.as_deref())
        .collect()
}

/// At most `n` chunks, bytes unbounded.
fn chunks(n: usize) -> impl Fn(&Session) -> bool {
    let b = CookieBudget {
        name_len: 9,
        max_chunks: n,
        max_bytes: 1 << 20,
    };
    move |s| b.fits(s)
}

fn nothing(_: &TokenSet) -> bool {
    false
}

#[test]
fn a_session_that_fits_is_left_alone() {
    let mut s = session(vec![tok("a", 1000, 5), tok("b", 1000, 3)]);
    let before = s.clone();
    assert_eq!(
        fit(&mut s, chunks(2), nothing),
        Fitted {
            dropped: 0,
            fits: true
        }
    );
    assert!(s == before);
}

#[test]
fn drops_the_least_recently_used_first_until_it_fits() {
    // Primary ~2 KB sealed plus three tokens of ~4 KB: two chunks hold the primary and one.
    let mut s = session(vec![
        tok("a", 2900, 30),
        tok("b", 2900, 10),
        tok("c", 2900, 20),
    ]);
    let r = fit(&mut s, chunks(2), nothing);
    assert_eq!(
        r,
        Fitted {
            dropped: 2,
            fits: true
        }
    );
    assert_eq!(auds(&s), ["a"]);
    assert!(s.primary.is_some());
    assert!(chunks(2)(&s));
}

#[test]
fn ties_drop_the_earliest_stored() {
    let mut s = session(vec![
        tok("a", 2900, 10),
        tok("b", 2900, 10),
        tok("c", 2900, 10),
    ]);
    fit(&mut s, chunks(2), nothing);
    assert_eq!(auds(&s), ["c"]);
}

#[test]
fn never_drops_a_kept_token_even_the_least_recently_used() {
    let mut s = session(vec![
        tok("a", 2900, 1),
        tok("b", 2900, 50),
        tok("c", 2900, 40),
    ]);
    let r = fit(&mut s, chunks(2), |t| t.audience.as_deref() == Some("a"));
    assert_eq!(
        r,
        Fitted {
            dropped: 2,
            fits: true
        }
    );
    assert_eq!(auds(&s), ["a"]);
}

#[test]
fn too_large_without_any_droppable_token_is_reported_not_forced() {
    let mut s = session(vec![tok("a", 2900, 1), tok("b", 2900, 2)]);
    s.primary = Some(tok("login", 6000, 0));
    let r = fit(&mut s, chunks(2), |t| t.audience.as_deref() == Some("b"));
    assert_eq!(
        r,
        Fitted {
            dropped: 1,
            fits: false
        }
    );
    assert!(s.primary.is_some(), "the primary is never dropped");
    assert_eq!(auds(&s), ["b"], "nor the kept token");
}

#[test]
fn the_byte_limit_counts_too() {
    let mut s = session(vec![tok("a", 900, 2), tok("b", 900, 1)]);
    let len = crate::session::cookie::budget::session_sealed_len(&s).unwrap();
    let b = CookieBudget {
        name_len: 9,
        max_chunks: 16,
        max_bytes: len - 100,
    };
    let r = fit(&mut s, |s| b.fits(s), nothing);
    assert_eq!(
        r,
        Fitted {
            dropped: 1,
            fits: true
        }
    );
    assert_eq!(auds(&s), ["a"]);
}
