use super::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, encode, Header, Validation};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair};
use serde_json::{json, Value};

const JWKS: &str = include_str!("testdata/jwks.json");
const TOKENS: &str = include_str!("testdata/openssl-tokens.json");
const RSA_KEY_PEM: &str = include_str!("testdata/rsa2048.key.pem");
const P256_KEY_PEM: &str = include_str!("testdata/p256.key.pem");

fn jwk(kid: &str) -> Jwk {
    let set: JwkSet = serde_json::from_str(JWKS).expect("test JWKS parses");
    set.find(kid).expect("kid in the test JWKS").clone()
}

fn openssl_token(alg: &str) -> String {
    let all: Value = serde_json::from_str(TOKENS).expect("test tokens parse");
    all[alg].as_str().expect("token for alg").to_owned()
}

fn der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).expect("test PEM is base64")
}

/// Checks signature, `iss` and `aud` the way the gateway does, without `exp` (the fixed tokens
/// have none).
fn verify(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Value, Error> {
    install();
    let mut v = Validation::new(alg);
    v.set_issuer(&["https://op.example"]);
    v.set_audience(&["tokengate"]);
    v.set_required_spec_claims(&["iss", "aud"]);
    v.validate_exp = false;
    decode::<Value>(token, key, &v).map(|d| d.claims)
}

fn sign(alg: Algorithm, key: &EncodingKey) -> String {
    install();
    let claims = json!({ "iss": "https://op.example", "aud": "tokengate", "sub": "round-trip" });
    encode(&Header::new(alg), &claims, key).expect("sign")
}

#[test]
fn verifies_tokens_another_implementation_signed() {
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-2048"),
        (Algorithm::PS256, "rsa-2048"),
        (Algorithm::ES256, "p256"),
    ] {
        let key = DecodingKey::from_jwk(&jwk(kid)).expect("key from JWK");
        let claims = verify(&openssl_token(&format!("{alg:?}")), &key, alg)
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(claims["sub"], "interop");
    }
}

#[test]
fn a_changed_payload_or_another_key_fails_the_signature() {
    let token = openssl_token("RS256");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = STANDARD.encode(br#"{"iss":"https://op.example","aud":"tokengate","sub":"eve"}"#);
    parts[1] = payload
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    let forged = parts.join(".");
    let key = DecodingKey::from_jwk(&jwk("rsa-2048")).expect("key");
    let err = verify(&forged, &key, Algorithm::RS256).expect_err("forged payload");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);

    let other = DecodingKey::from_jwk(&jwk("rsa-1024")).expect("key");
    let err = verify(&token, &other, Algorithm::RS256).expect_err("wrong key");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
}

#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    let key = DecodingKey::from_jwk(&jwk("rsa-1024")).expect("key");
    let err = verify(&openssl_token("RS256-1024"), &key, Algorithm::RS256).expect_err("short key");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
}

#[test]
fn an_hmac_token_keyed_with_the_public_key_is_not_accepted_for_an_rsa_key() {
    // The classic algorithm confusion: HS256 with the RSA public key as the secret.
    let public = jwk("rsa-2048");
    let secret = serde_json::to_vec(&public).expect("jwk json");
    let token = sign(Algorithm::HS256, &EncodingKey::from_secret(&secret));
    let key = DecodingKey::from_jwk(&public).expect("key");
    assert!(verify(&token, &key, Algorithm::HS256).is_err());
    assert!(new_verifier(&Algorithm::HS256, &key).is_err());
}

#[test]
fn every_algorithm_round_trips() {
    let rng = SystemRandom::new();
    let p384 = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, &rng)
        .expect("P-384 key");
    let ed = Ed25519KeyPair::generate_pkcs8(&rng).expect("Ed25519 key");
    let rsa = EncodingKey::from_rsa_der(&der(RSA_KEY_PEM));
    let rsa_public = DecodingKey::from_jwk(&jwk("rsa-2048")).expect("key");
    let cases = [
        (
            Algorithm::HS256,
            EncodingKey::from_secret(b"k"),
            DecodingKey::from_secret(b"k"),
        ),
        (
            Algorithm::HS384,
            EncodingKey::from_secret(b"k"),
            DecodingKey::from_secret(b"k"),
        ),
        (
            Algorithm::HS512,
            EncodingKey::from_secret(b"k"),
            DecodingKey::from_secret(b"k"),
        ),
        (Algorithm::RS256, rsa.clone(), rsa_public.clone()),
        (Algorithm::RS384, rsa.clone(), rsa_public.clone()),
        (Algorithm::RS512, rsa.clone(), rsa_public.clone()),
        (Algorithm::PS256, rsa.clone(), rsa_public.clone()),
        (Algorithm::PS384, rsa.clone(), rsa_public.clone()),
        (Algorithm::PS512, rsa, rsa_public),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_der(&der(P256_KEY_PEM)),
            DecodingKey::from_jwk(&jwk("p256")).expect("key"),
        ),
        (
            Algorithm::ES384,
            EncodingKey::from_ec_der(p384.as_ref()),
            public_of(&EncodingKey::from_ec_der(p384.as_ref()), Algorithm::ES384),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(ed.as_ref()),
            DecodingKey::from_ed_der(
                Ed25519KeyPair::from_pkcs8(ed.as_ref())
                    .expect("Ed25519 pair")
                    .public_key()
                    .as_ref(),
            ),
        ),
    ];
    for (alg, signing, verifying) in cases {
        let claims = verify(&sign(alg, &signing), &verifying, alg)
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(claims["sub"], "round-trip", "{alg:?}");
    }
}

/// The public key of an EC private key, through the JWK the provider's utilities derive.
fn public_of(key: &EncodingKey, alg: Algorithm) -> DecodingKey {
    install();
    let jwk = Jwk::from_encoding_key(key, alg).expect("JWK from private key");
    DecodingKey::from_jwk(&jwk).expect("key from JWK")
}

#[test]
fn public_jwks_derived_from_private_keys_match_the_published_ones() {
    install();
    let ec = Jwk::from_encoding_key(
        &EncodingKey::from_ec_der(&der(P256_KEY_PEM)),
        Algorithm::ES256,
    )
    .expect("EC JWK");
    let rsa = Jwk::from_encoding_key(
        &EncodingKey::from_rsa_der(&der(RSA_KEY_PEM)),
        Algorithm::RS256,
    )
    .expect("RSA JWK");
    let published = |kid: &str| serde_json::to_value(jwk(kid)).expect("jwk json");
    let ec = serde_json::to_value(ec).expect("json");
    let rsa = serde_json::to_value(rsa).expect("json");
    assert_eq!(
        (&ec["x"], &ec["y"]),
        (&published("p256")["x"], &published("p256")["y"])
    );
    assert_eq!(
        (&rsa["n"], &rsa["e"]),
        (&published("rsa-2048")["n"], &published("rsa-2048")["e"])
    );
}

#[test]
fn thumbprints_follow_rfc_7638() {
    // RFC 7638 §3.1's example key and its SHA-256 thumbprint.
    install();
    let key: Jwk = serde_json::from_value(json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }))
    .expect("RFC 7638 key");
    assert_eq!(
        key.thumbprint(ThumbprintHash::SHA256),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn keys_of_the_wrong_kind_are_errors_not_panics() {
    install();
    let rsa_public = DecodingKey::from_jwk(&jwk("rsa-2048")).expect("key");
    for alg in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256] {
        assert!(new_verifier(&alg, &rsa_public).is_err(), "{alg:?}");
    }
    let garbage = EncodingKey::from_ec_der(b"not a key");
    assert!(new_signer(&Algorithm::ES256, &garbage).is_err());
    assert!(new_signer(&Algorithm::RS256, &EncodingKey::from_rsa_der(b"nope")).is_err());
    assert!(new_signer(&Algorithm::EdDSA, &EncodingKey::from_ed_der(b"nope")).is_err());
}
