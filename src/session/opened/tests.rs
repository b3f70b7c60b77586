use super::*;
use crate::session::model::User;

fn session(sid: &str) -> Session {
    let user = User {
        sub: "auth0|42".into(),
        name: None,
        email: None,
        sid: None,
    };
    Session {
        sid: sid.to_owned(),
        ..Session::new(user, 1_700_000_000)
    }
}

fn ring(seed: u8) -> KeyRing {
    KeyRing::new(&[[seed; 32]]).expect("a valid key")
}

#[test]
fn a_sealed_value_opens_once_and_is_then_shared() {
    let keys = ring(1);
    let sealed = keys.seal_session("tg", &session("a")).unwrap();
    let opened = OpenedSessions::new();
    let first = opened.open(&keys, "tg", sealed.clone()).unwrap();
    let second = opened.open(&keys, "tg", sealed).unwrap();
    assert_eq!(first.sid, "a");
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second read is the cached session"
    );
    let uncached = OpenedSessions::uncached();
    let sealed = keys.seal_session("tg", &session("b")).unwrap();
    let (a, b) = (
        uncached.open(&keys, "tg", sealed.clone()),
        uncached.open(&keys, "tg", sealed),
    );
    assert!(
        !Arc::ptr_eq(&a.unwrap(), &b.unwrap()),
        "uncached opens every time"
    );
}

#[test]
fn values_with_the_same_tail_are_different_entries() {
    let keys = ring(1);
    let sealed = keys.seal_session("tg", &session("a")).unwrap();
    let opened = OpenedSessions::new();
    opened.open(&keys, "tg", sealed.clone()).unwrap();
    // Same hashed tail, one byte changed before it: must not be served from the cache.
    let mut forged = sealed.into_bytes();
    let i = forged.len() - HASHED_TAIL - 1;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(opened.open(&keys, "tg", forged).is_err());
}

#[test]
fn only_values_that_open_are_kept() {
    let keys = ring(1);
    let opened = OpenedSessions::new();
    for garbage in [
        "",
        "x",
        "not a sealed value at all, but long enough to hash a tail",
    ] {
        assert!(opened.open(&keys, "tg", garbage.to_owned()).is_err());
    }
    let other = ring(2);
    let sealed = other.seal_session("tg", &session("a")).unwrap();
    assert!(opened.open(&keys, "tg", sealed).is_err());
    assert_eq!(opened.len(), 0);
}

#[test]
fn clear_empties_the_cache() {
    let keys = ring(1);
    let opened = OpenedSessions::new();
    let sealed = keys.seal_session("tg", &session("a")).unwrap();
    opened.open(&keys, "tg", sealed).unwrap();
    assert_eq!(opened.len(), 1);
    opened.clear();
    assert_eq!(opened.len(), 0);
}

#[test]
fn the_purpose_is_checked_even_for_a_cached_value() {
    let keys = ring(1);
    let sealed = keys.seal_session("tg", &session("a")).unwrap();
    let opened = OpenedSessions::new();
    opened.open(&keys, "tg", sealed.clone()).unwrap();
    assert!(opened.open(&keys, "other", sealed).is_err());
}

#[test]
fn the_memory_bound_holds() {
    let keys = ring(1);
    let opened = OpenedSessions::with_capacity(64 * 1024);
    for i in 0..200 {
        let sealed = keys.seal_session("tg", &session(&i.to_string())).unwrap();
        opened.open(&keys, "tg", sealed).unwrap();
    }
    let one = u64::from(weight(&keys.seal_session("tg", &session("x")).unwrap()));
    assert!(
        opened.len() * one <= 64 * 1024 + one,
        "{} entries",
        opened.len()
    );
}
