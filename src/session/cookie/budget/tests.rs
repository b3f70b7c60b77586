use super::*;
use crate::session::codec::KeyRing;
use crate::session::cookie::chunks::{chunk_name, split_chunks};
use crate::session::model::User;

fn budget(max_chunks: usize, max_bytes: usize) -> CookieBudget {
    CookieBudget {
        name_len: "tokengate".len(),
        max_chunks,
        max_bytes,
    }
}

/// The `Cookie` header a browser sends back for `sealed`, as the chunks are written.
fn cookie_header(sealed: &str) -> String {
    split_chunks(sealed)
        .iter()
        .enumerate()
        .map(|(k, v)| format!("{}={v}", chunk_name("tokengate", k)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn sealed_len_is_the_length_seal_produces() {
    let keys = KeyRing::new(&[[7u8; 32]]).unwrap();
    for n in [0, 1, 2, 3, 100, 2999, 3000, 3001, 12_345] {
        let sealed = keys.seal("p", &vec![b'x'; n]).unwrap();
        assert_eq!(sealed_len(n), sealed.len(), "plaintext of {n} bytes");
    }
    let mut s = Session::new(User::default(), 5);
    s.refresh_token = Some("r".repeat(5000));
    let sealed = keys.seal_session("tokengate", &s).unwrap();
    assert_eq!(session_sealed_len(&s), Some(sealed.len()));
}

#[test]
fn cookie_bytes_are_the_header_a_browser_sends_back() {
    let b = budget(16, 1 << 20);
    for len in [0, 1, 3999, 4000, 4001, 8000, 8001, 39_999, 40_001, 64_000] {
        let sealed = "a".repeat(len);
        assert_eq!(b.cookie_bytes(len), cookie_header(&sealed).len(), "{len}");
        assert_eq!(CookieBudget::chunks(len), split_chunks(&sealed).len());
    }
}

#[test]
fn fits_at_the_chunk_limit_and_not_one_byte_past_it() {
    let b = budget(2, 1 << 20);
    assert!(b.fits_sealed(8000));
    assert!(!b.fits_sealed(8001));
    let b = budget(1, 1 << 20);
    assert!(b.fits_sealed(0));
    assert!(b.fits_sealed(4000));
    assert!(!b.fits_sealed(4001));
}

#[test]
fn fits_at_the_byte_limit_and_not_one_byte_past_it() {
    let exact = budget(16, 1 << 20).cookie_bytes(9000);
    assert!(budget(16, exact).fits_sealed(9000));
    assert!(!budget(16, exact - 1).fits_sealed(9000));
}

#[test]
fn a_session_fits_when_its_sealed_value_does() {
    let mut s = Session::new(User::default(), 5);
    let len = session_sealed_len(&s).unwrap();
    assert!(budget(1, 4096).fits(&s));
    s.refresh_token = Some("r".repeat(4000));
    assert!(session_sealed_len(&s).unwrap() > 4000 + len);
    assert!(!budget(1, 1 << 20).fits(&s));
    assert!(budget(2, 1 << 20).fits(&s));
}

#[test]
fn nominal_capacity_of_the_defaults_holds_the_default_max_cached() {
    let defaults = CookieBudget {
        name_len: "__Host-tokengate".len(),
        max_chunks: 16,
        max_bytes: 73_728,
    };
    assert!(defaults.nominal_capacity().unwrap() >= 16);
    assert_eq!(budget(4, 73_728).nominal_capacity(), Some(5));
    assert_eq!(budget(2, 73_728).nominal_capacity(), Some(1));
    // One chunk holds no nominal session with its login token.
    assert_eq!(budget(1, 73_728).nominal_capacity(), None);
    // The byte limit binds too.
    assert_eq!(budget(16, 6000).nominal_capacity(), Some(0));
}
