//! The assertion key: both PEM forms of one key, the keys that are refused, and signatures that
//! verify with the published JWK.

use super::*;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};

const PKCS8: &str = include_str!("../testdata/p256.key.pem");
const SEC1: &str = include_str!("../testdata/p256.sec1.pem");
const SEC1_WITH_PARAMS: &str = include_str!("../testdata/p256.sec1-params.pem");
const P384: &str = include_str!("../testdata/p384.key.pem");
const RSA: &str = include_str!("../testdata/rsa2048.key.pem");

/// The RFC 7638 thumbprint of the test key's public half, computed with Python's hashlib over
/// `{"crv":"P-256","kty":"EC","x":..,"y":..}` (independently of the code under test).
const THUMBPRINT: &str = "bO22s10r4QthICuEqDXPJgPJvDythgk2E26Cyg64a6w";

#[test]
fn pkcs8_and_sec1_forms_of_one_key_are_the_same_key() {
    for pem in [PKCS8, SEC1, SEC1_WITH_PARAMS] {
        let key = SigningKey::from_pem(pem.as_bytes()).expect("a P-256 key");
        assert_eq!(key.kid(), THUMBPRINT);
    }
}

#[test]
fn the_published_jwk_is_public_and_names_its_use() {
    let key = SigningKey::from_pem(PKCS8.as_bytes()).unwrap();
    let jwk: Value = serde_json::to_value(key.public_jwk()).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["kid"], THUMBPRINT);
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["x"], "udlrnrlYKd-L4kcNsHQIREdewf3Qp21Uo7mQgnEo8bg");
    assert!(jwk.get("d").is_none(), "never the private part");
}

#[test]
fn other_keys_are_refused_with_the_fix() {
    for (pem, says) in [
        (P384, "not a P-256"),
        (RSA, "RSA key"),
        ("", "no PEM private key"),
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "no PEM",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "not a P-256",
        ),
    ] {
        let err = SigningKey::from_pem(pem.as_bytes()).expect_err(pem);
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains("MIG"),
            "the message never quotes the key: {err}"
        );
    }
}

#[test]
fn a_signed_token_verifies_with_the_published_jwk() {
    let key = SigningKey::from_pem(SEC1.as_bytes()).unwrap();
    let token = key.sign(&json!({"sub": "alice", "aud": "x"})).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(THUMBPRINT));
    let decoding = DecodingKey::from_jwk(key.public_jwk()).unwrap();
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&["x"]);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Value>(&token, &decoding, &v).unwrap();
    assert_eq!(data.claims["sub"], "alice");
}

#[test]
fn debug_shows_the_kid_only() {
    let key = SigningKey::from_pem(PKCS8.as_bytes()).unwrap();
    let shown = format!("{key:?}");
    assert!(
        shown.contains(THUMBPRINT) && !shown.contains("content"),
        "{shown}"
    );
}

#[test]
fn der_lengths_use_the_long_form_past_127_bytes() {
    assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
    let long = der(0x04, &[0; 200]);
    assert_eq!(&long[..3], &[0x04, 0x81, 200]);
    let longer = der(0x30, &[0; 300]);
    assert_eq!(&longer[..4], &[0x30, 0x82, 0x01, 0x2c]);
}
