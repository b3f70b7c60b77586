//! Tests of the codec: fixed cases for each error, and properties over arbitrary input.

use super::*;
use crate::scope::Scope;
use crate::session::claims::Claims;
use crate::session::model::{TokenSet, User};
use proptest::prelude::*;

const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];

fn ring(keys: &[[u8; 32]]) -> KeyRing {
    match KeyRing::new(keys) {
        Ok(ring) => ring,
        Err(e) => panic!("test ring: {e}"),
    }
}

fn raw(sealed: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(sealed).unwrap_or_default()
}

fn session() -> Session {
    Session {
        sid: "sid-1".into(),
        version: 3,
        created_at: 1_700_000_000,
        last_seen: 1_700_000_100,
        user: User {
            sub: "auth0|42".into(),
            name: Some("Ada".into()),
            email: None,
            sid: Some("op-sid".into()),
        },
        claims: Claims::keep(
            &serde_json::from_str(r#"{"groups":["admins"]}"#).unwrap_or_default(),
            &["groups".to_owned(), "acr".to_owned()].into(),
        ),
        refresh_token: Some("rt-1".into()),
        id_token: Some("id.token.sig".into()),
        primary: Some(TokenSet {
            audience: Some("https://api.example.com".into()),
            scope: Scope::parse("openid read:orders"),
            requested: Scope::parse("read:orders"),
            access_token: "at-1".into(),
            expires_at: 1_700_003_600,
            last_used: 1_700_000_100,
        }),
        extra: Vec::new(),
    }
}

#[test]
fn empty_key_list_is_an_error() {
    assert_eq!(KeyRing::new(&[]).err(), Some(CodecError::NoKeys));
}

#[test]
fn key_id_is_the_documented_hash_prefix() {
    let digest = Sha256::digest([b"tokengate key id".as_slice(), &KEY_A].concat());
    assert_eq!(key_id(&KEY_A).as_slice(), &digest[..4]);
    assert_ne!(key_id(&KEY_A), key_id(&KEY_B));
}

#[test]
fn sealed_layout_matches_the_documented_format() {
    let sealed = ring(&[KEY_A]).seal("tg", b"hello").unwrap_or_default();
    let bytes = raw(&sealed);
    assert_eq!(bytes.len(), 1 + 4 + 12 + 5 + 16);
    assert_eq!(bytes[0], 1);
    assert_eq!(&bytes[1..5], key_id(&KEY_A).as_slice());
    assert_eq!(sealed.len(), base64_len(bytes.len()));
    assert!(sealed
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
}

#[test]
fn two_seals_differ_by_nonce() {
    let ring = ring(&[KEY_A]);
    assert_ne!(ring.seal("tg", b"same"), ring.seal("tg", b"same"));
}

#[test]
fn debug_shows_key_ids_not_keys() {
    let shown = format!("{:?}", ring(&[KEY_A]));
    let id: String = key_id(&KEY_A).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(shown, format!("[{id}]"));
}

#[test]
fn session_round_trips() {
    let ring = ring(&[KEY_A]);
    let sealed = ring.seal_session("tg", &session());
    let opened = sealed.and_then(|s| ring.open_session("tg", &s));
    assert_eq!(opened, Ok(session()));
}

/// A cookie written before sessions kept claims (no `k` member) still opens, knowing no claim:
/// adding them did not change the format version, so nobody was logged out.
#[test]
fn a_session_sealed_before_claims_existed_still_opens() {
    let ring = ring(&[KEY_A]);
    let old = r#"{"i":"sid-1","v":1,"c":1700000000,"l":1700000000,"u":{"sub":"s"},"r":"rt"}"#;
    let sealed = ring.seal("tg", old.as_bytes()).unwrap_or_default();
    let opened = ring
        .open_session("tg", &sealed)
        .expect("an old cookie opens");
    assert!(opened.claims.is_empty());
    assert_eq!(opened.refresh_token.as_deref(), Some("rt"));
}

#[test]
fn authentic_non_session_json_is_bad_payload() {
    let ring = ring(&[KEY_A]);
    for plaintext in [&b"{\"i\":1}"[..], b"not json", b""] {
        let sealed = ring.seal("tg", plaintext).unwrap_or_default();
        assert_eq!(
            ring.open_session("tg", &sealed),
            Err(CodecError::BadPayload)
        );
    }
}

#[test]
fn each_error_has_its_label() {
    let ring = ring(&[KEY_A]);
    let sealed = ring.seal("tg", b"x").unwrap_or_default();
    let mut bytes = raw(&sealed);

    assert_eq!(ring.open("tg", "not base64!"), Err(CodecError::Malformed));
    assert_eq!(ring.open("tg", ""), Err(CodecError::Malformed));
    // A valid header but no room for nonce and tag.
    let short = URL_SAFE_NO_PAD.encode(&bytes[..20]);
    assert_eq!(ring.open("tg", &short), Err(CodecError::Malformed));

    bytes[0] = 2;
    let v2 = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(ring.open("tg", &v2), Err(CodecError::UnsupportedVersion));

    let other = self::ring(&[KEY_B]).seal("tg", b"x").unwrap_or_default();
    assert_eq!(ring.open("tg", &other), Err(CodecError::UnknownKey));
    assert_eq!(ring.open("tg.other", &sealed), Err(CodecError::Tampered));
    let huge = "A".repeat(MAX_SEALED_LEN + 1);
    assert_eq!(ring.open("tg", &huge), Err(CodecError::TooLarge));

    let labels: Vec<_> = [
        CodecError::Malformed,
        CodecError::UnsupportedVersion,
        CodecError::UnknownKey,
        CodecError::Tampered,
        CodecError::TooLarge,
        CodecError::BadPayload,
        CodecError::NoKeys,
    ]
    .iter()
    .map(CodecError::reason)
    .collect();
    assert_eq!(
        labels,
        [
            "malformed",
            "version",
            "unknown_key",
            "tampered",
            "too_large",
            "payload",
            "no_keys"
        ]
    );
}

#[test]
fn seal_refuses_what_open_would_refuse() {
    let ring = ring(&[KEY_A]);
    // The largest plaintext whose sealed form fits MAX_SEALED_LEN: 64000 chars of base64
    // carry 48000 bytes, of which 33 are header and tag.
    let fits = vec![7u8; MAX_SEALED_LEN / 4 * 3 - HEADER_LEN - TAG_LEN];
    let sealed = ring.seal("tg", &fits);
    assert_eq!(sealed.as_ref().map(String::len), Ok(MAX_SEALED_LEN));
    assert_eq!(sealed.and_then(|s| ring.open("tg", &s)), Ok(fits.clone()));
    let too_big = vec![7u8; fits.len() + 1];
    assert_eq!(ring.seal("tg", &too_big), Err(CodecError::TooLarge));
}

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

proptest! {
    #[test]
    fn seal_open_round_trips(plaintext in prop::collection::vec(any::<u8>(), 0..2048), purpose in ".*") {
        let ring = ring(&[KEY_A]);
        let sealed = ring.seal(&purpose, &plaintext);
        prop_assert_eq!(sealed.and_then(|s| ring.open(&purpose, &s)), Ok(plaintext));
    }

    #[test]
    fn any_single_char_change_fails_to_open(
        plaintext in prop::collection::vec(any::<u8>(), 0..256),
        pos in any::<prop::sample::Index>(),
        replacement in any::<prop::sample::Index>(),
    ) {
        let ring = ring(&[KEY_A]);
        let sealed = ring.seal("tg", &plaintext).unwrap_or_default();
        let mut bytes = sealed.into_bytes();
        let i = pos.index(bytes.len());
        let others: Vec<u8> = BASE64URL.iter().copied().filter(|&c| c != bytes[i]).collect();
        bytes[i] = others[replacement.index(others.len())];
        let changed = String::from_utf8(bytes).unwrap_or_default();
        prop_assert!(ring.open("tg", &changed).is_err());
    }

    #[test]
    fn rotation_opens_with_an_old_key_in_the_ring(plaintext in prop::collection::vec(any::<u8>(), 0..512)) {
        let sealed = ring(&[KEY_A]).seal("tg", &plaintext).unwrap_or_default();
        prop_assert_eq!(ring(&[KEY_B, KEY_A]).open("tg", &sealed), Ok(plaintext));
        prop_assert_eq!(ring(&[KEY_B]).open("tg", &sealed), Err(CodecError::UnknownKey));
    }

    #[test]
    fn a_different_purpose_fails(plaintext in prop::collection::vec(any::<u8>(), 0..256), a in ".*", b in ".*") {
        prop_assume!(a != b);
        let ring = ring(&[KEY_A]);
        let sealed = ring.seal(&a, &plaintext).unwrap_or_default();
        prop_assert_eq!(ring.open(&b, &sealed), Err(CodecError::Tampered));
    }

    #[test]
    fn arbitrary_strings_never_panic(input in ".{0,300}") {
        let ring = ring(&[KEY_A]);
        prop_assert!(ring.open("tg", &input).is_err());
        prop_assert!(ring.open_session("tg", &input).is_err());
    }

    #[test]
    fn arbitrary_base64_with_a_valid_header_never_opens(tail in prop::collection::vec(any::<u8>(), 0..300)) {
        let ring = ring(&[KEY_A]);
        let bytes = [&[VERSION][..], &key_id(&KEY_A), &tail].concat();
        let input = URL_SAFE_NO_PAD.encode(bytes);
        prop_assert!(ring.open("tg", &input).is_err());
        prop_assert!(ring.open_session("tg", &input).is_err());
    }
}
