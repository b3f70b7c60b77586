//! The mock provider's signing key, for OpenID Connect Back-Channel Logout and the ID tokens of
//! refresh answers: the provider signs a `logout_token` or an ID token (ES256) with a fixed
//! test-only key whose public half its JWKS publishes, so the gateway verifies it exactly as it
//! would a real provider's. A second key that the JWKS does not publish forges tokens under the
//! same `kid`.

use super::provider::{MockProvider, CLIENT_ID};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The back-channel logout event (Back-Channel Logout 1.0 §2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The `kid` of the published key (the forger uses it too).
pub const KID: &str = "tokengate-test-logout-1";

const SIGNING_KEY_PEM: &str = include_str!("keys/logout-signing.key.pem");
const SIGNING_JWK: &str = include_str!("keys/logout-signing.jwk.json");
const FORGER_KEY_PEM: &str = include_str!("keys/forger.key.pem");
/// The `kid` of the key a provider publishes once it rotates (`MockProvider::publish_rotated_key`).
pub const ROTATED_KID: &str = "tokengate-test-rotated-1";
const ROTATED_KEY_PEM: &str = include_str!("keys/rotated-signing.key.pem");
const ROTATED_JWK: &str = include_str!("keys/rotated-signing.jwk.json");

/// Who signs a token.
#[derive(Clone, Copy, Debug)]
pub enum Signer {
    /// The provider's published key.
    Provider,
    /// A key nobody published, under the provider's `kid`.
    Forger,
    /// The provider's next key, under its own `kid` (published after a rotation).
    Rotated,
}

/// The JWKS document the mock provider serves at its `jwks_uri`.
pub fn jwks() -> Value {
    jwks_with(false)
}

/// The JWKS, with the rotated key too when `rotated`.
pub fn jwks_with(rotated: bool) -> Value {
    let jwk: Value = serde_json::from_str(SIGNING_JWK).expect("test JWK is JSON");
    let mut keys = vec![jwk];
    if rotated {
        keys.push(serde_json::from_str(ROTATED_JWK).expect("test JWK is JSON"));
    }
    json!({ "keys": keys })
}

/// The DER body of a PEM file (what `EncodingKey::from_ec_der` takes: PKCS#8).
fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    STANDARD.decode(b64).expect("test key PEM is base64")
}

/// `claims` as a logout token (a JWT) signed with ES256 by `signer`, with the provider's `kid`.
pub fn sign(claims: &Value, signer: Signer) -> String {
    sign_typed(claims, signer, "logout+jwt")
}

/// `claims` as an ID token (a JWT, `typ` `JWT`) signed with ES256 by `signer`.
pub fn sign_id_token(claims: &Value, signer: Signer) -> String {
    sign_typed(claims, signer, "JWT")
}

/// `claims` as a JWT access token (`typ` `at+jwt`, RFC 9068) signed by `signer`.
pub fn sign_access(claims: &Value, signer: Signer) -> String {
    sign_typed(claims, signer, "at+jwt")
}

fn sign_typed(claims: &Value, signer: Signer, typ: &str) -> String {
    let (pem, kid) = match signer {
        Signer::Provider => (SIGNING_KEY_PEM, KID),
        Signer::Forger => (FORGER_KEY_PEM, KID),
        Signer::Rotated => (ROTATED_KEY_PEM, ROTATED_KID),
    };
    tokengate::jwt_crypto::install();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&pem_to_der(pem)))
        .expect("sign a test JWT")
}

impl MockProvider {
    /// The claims of a valid ID token for user `sub`, issued now by this provider for the test
    /// client, with the claims of `extra` (an object) added.
    pub fn id_token_claims(&self, sub: &str, extra: Value) -> Value {
        let now = tokengate::session::model::now();
        let mut claims = json!({
            "iss": self.issuer(),
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
        });
        if let (Some(obj), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            obj.extend(extra);
        }
        claims
    }

    /// The claims of a valid logout token for provider session `sid` and/or user `sub`: issued
    /// by this provider for the test client, now, with the back-channel event.
    pub fn logout_claims(&self, sid: Option<&str>, sub: Option<&str>) -> Value {
        let now = tokengate::session::model::now();
        let jti: [u8; 8] = rand::random();
        let mut claims = json!({
            "iss": self.issuer(),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "events": { LOGOUT_EVENT: {} },
        });
        if let Some(obj) = claims.as_object_mut() {
            if let Some(sid) = sid {
                obj.insert("sid".into(), json!(sid));
            }
            if let Some(sub) = sub {
                obj.insert("sub".into(), json!(sub));
            }
        }
        claims
    }

    /// A valid logout token signed with the published key.
    pub fn logout_token(&self, sid: Option<&str>, sub: Option<&str>) -> String {
        sign(&self.logout_claims(sid, sub), Signer::Provider)
    }
}
