use super::*;
use crate::session::claims::Claims;
use crate::session::model::User;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

const KEY: &str = include_str!("../../jwt_crypto/testdata/p256.key.pem");
const ISSUER: &str = "https://gw.example";
const AUD: &str = "http://127.0.0.1:9103";

fn assertions() -> Assertions {
    let key = SigningKey::from_pem(KEY.as_bytes()).expect("test key");
    Assertions::new(vec![Arc::new(key)], ISSUER.to_owned()).expect("one key")
}

fn session(sid: &str, sub: &str, groups: Option<Value>) -> Session {
    let mut s = Session::new(
        User {
            sub: sub.to_owned(),
            name: Some("Alice".into()),
            email: Some(format!("{sub}@example.com")),
            sid: None,
        },
        1,
    );
    s.sid = sid.to_owned();
    let mut source = serde_json::Map::new();
    if let Some(g) = groups {
        source.insert("groups".into(), g);
    }
    s.claims = Claims::keep(&source, &["groups".to_owned()].into());
    s
}

fn verify(a: &Assertions, token: &HeaderValue, aud: &str) -> Value {
    let token = token.to_str().expect("ascii");
    let header = jsonwebtoken::decode_header(token).expect("a JWS");
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(a.jwks()).expect("a JWKS");
    let jwk = jwks
        .find(header.kid.as_deref().expect("kid"))
        .expect("published");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[aud]);
    v.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("verifies")
        .claims
}

#[test]
fn an_assertion_names_the_user_for_one_upstream_for_a_minute() {
    crate::jwt_crypto::install();
    let a = assertions();
    let s = session("sid-1", "alice", Some(json!(["admins", "ops"])));
    let token = a.for_session(&s, "admin", AUD, 1_000).unwrap();
    assert!(token.is_sensitive());
    let claims = verify(&a, &token, AUD);
    assert_eq!(
        claims,
        json!({
            "iss": ISSUER, "aud": AUD, "sub": "alice", "email": "alice@example.com",
            "groups": ["admins", "ops"], "iat": 1_000, "exp": 1_060,
        })
    );
}

#[test]
fn absent_email_and_groups_are_left_out() {
    let a = assertions();
    let mut s = session("sid-1", "bob", None);
    s.user.email = None;
    let claims = verify(&a, &a.for_session(&s, "r", AUD, 5).unwrap(), AUD);
    assert_eq!(claims.get("email"), None);
    assert_eq!(claims.get("groups"), None);
}

#[test]
fn an_assertion_is_reused_while_more_than_half_its_life_is_left() {
    let a = assertions();
    let s = session("sid-1", "alice", None);
    let first = a.for_session(&s, "r", AUD, 1_000).unwrap();
    assert_eq!(a.for_session(&s, "r", AUD, 1_029).unwrap(), first);
    let renewed = a.for_session(&s, "r", AUD, 1_030).unwrap();
    assert_ne!(renewed, first, "30 s left of 60: a new one");
    assert_eq!(verify(&a, &renewed, AUD)["iat"], 1_030);
}

#[test]
fn another_session_route_audience_or_identity_never_gets_the_same_assertion() {
    let a = assertions();
    let alice = session("sid-1", "alice", Some(json!(["admins"])));
    let base = a.for_session(&alice, "r", AUD, 1_000).unwrap();
    let other_sid = session("sid-2", "alice", Some(json!(["admins"])));
    let bob_same_sid = session("sid-1", "bob", Some(json!(["admins"])));
    let fewer_groups = session("sid-1", "alice", Some(json!([])));
    for (s, route, aud) in [
        (&other_sid, "r", AUD),
        (&alice, "r2", AUD),
        (&alice, "r", "http://127.0.0.1:9999"),
        (&bob_same_sid, "r", AUD),
        (&fewer_groups, "r", AUD),
    ] {
        let token = a.for_session(s, route, aud, 1_001).unwrap();
        assert_ne!(token, base);
        let claims = verify(&a, &token, aud);
        assert_eq!(claims["sub"], json!(s.user.sub));
        assert_eq!(claims["aud"], aud);
    }
    // Each of those replaced or added entries; alice's own is made again, not another's.
    let again = a.for_session(&alice, "r", AUD, 1_002).unwrap();
    assert_eq!(verify(&a, &again, AUD)["groups"], json!(["admins"]));
}

#[test]
fn every_key_is_published_and_the_first_signs() {
    let other =
        SigningKey::from_pem(include_str!("../../jwt_crypto/testdata/p256.sec1.pem").as_bytes())
            .unwrap();
    assert!(Assertions::new(Vec::new(), ISSUER.into()).is_none());
    let first = SigningKey::from_pem(KEY.as_bytes()).unwrap();
    let kid = first.kid().to_owned();
    let a = Assertions::new(vec![Arc::new(first), Arc::new(other)], ISSUER.into()).unwrap();
    assert_eq!(a.jwks()["keys"].as_array().map(Vec::len), Some(2));
    let token = a
        .for_session(&session("s", "u", None), "r", AUD, 1)
        .unwrap();
    let header = jsonwebtoken::decode_header(token.to_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
}
