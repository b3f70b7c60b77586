//! ID-token validation (OIDC Core §3.1.3.7) with `jsonwebtoken`: the signature from the
//! provider's JWKS (fetched again when a `kid` is unknown, so provider key rotation needs no
//! restart), `iss`, `aud`, `azp`, `exp` with a small clock skew, and the login's `nonce`.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Clock skew forgiven on `exp`/`iat`/`nbf`.
pub const CLOCK_SKEW_SECS: u64 = 60;
/// An unknown `kid` refetches the JWKS at most this often (a forged token must not make us hammer
/// the provider).
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The claims the gateway reads from an ID token. `Debug` is derived for tests only: these are
/// personal data and never logged.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub aud: Audience,
    /// Every other claim: the session keeps those the config uses (`session::claims`), and a
    /// step-up login is checked on `acr` and `auth_time`.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn len(&self) -> usize {
        match self {
            Audience::None => 0,
            Audience::One(_) => 1,
            Audience::Many(v) => v.len(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    #[error("the ID token's algorithm is not allowed")]
    Algorithm,
    #[error("no provider key matches the ID token")]
    UnknownKey,
    #[error("the provider's JWKS could not be fetched: {0}")]
    Jwks(String),
    #[error("the ID token is invalid: {0}")]
    Invalid(String),
    #[error("the ID token's nonce does not match the login")]
    Nonce,
    #[error("the ID token's azp does not name this client")]
    Azp,
}

/// Only asymmetric algorithms: `none` and HMAC (keyed with the client secret) are refused.
fn allowed(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// The provider's keys, cached.
pub struct Jwks {
    http: reqwest::Client,
    cached: RwLock<Option<(JwkSet, Instant)>>,
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub fn new(http: reqwest::Client) -> Self {
        // Whoever holds a Jwks verifies signatures: make sure jsonwebtoken has its backend.
        crate::jwt_crypto::install();
        Jwks {
            http,
            cached: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn lookup(&self, kid: Option<&str>) -> (Option<Jwk>, Option<Instant>) {
        let Ok(guard) = self.cached.read() else {
            return (None, None);
        };
        match &*guard {
            None => (None, None),
            Some((set, at)) => {
                let key = match kid {
                    Some(k) => set.find(k).cloned(),
                    None if set.keys.len() == 1 => set.keys.first().cloned(),
                    None => None,
                };
                (key, Some(*at))
            }
        }
    }

    /// The key for `kid`, fetching the set when it is not cached or does not hold `kid`.
    async fn key(&self, jwks_uri: &url::Url, kid: Option<&str>) -> Result<Jwk, IdTokenError> {
        if let (Some(k), _) = self.lookup(kid) {
            return Ok(k);
        }
        let _guard = self.fetching.lock().await;
        let (found, fetched_at) = self.lookup(kid);
        if let Some(k) = found {
            return Ok(k);
        }
        if fetched_at.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Err(IdTokenError::UnknownKey);
        }
        let resp = self
            .http
            .get(jwks_uri.clone())
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| IdTokenError::Jwks(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(IdTokenError::Jwks(format!("HTTP {}", resp.status())));
        }
        let body = crate::http::outbound::read_bounded(resp, 256 * 1024)
            .await
            .map_err(|e| IdTokenError::Jwks(e.to_string()))?;
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| IdTokenError::Jwks(format!("invalid JWKS: {e}")))?;
        if let Ok(mut c) = self.cached.write() {
            *c = Some((set, Instant::now()));
        }
        self.lookup(kid).0.ok_or(IdTokenError::UnknownKey)
    }

    /// Validates `token` for this client and login.
    pub async fn validate(
        &self,
        token: &str,
        jwks_uri: &url::Url,
        issuer: &str,
        client_id: &str,
        nonce: &str,
    ) -> Result<IdClaims, IdTokenError> {
        let claims: IdClaims = self
            .verify(
                token,
                jwks_uri,
                issuer,
                client_id,
                &["exp", "iat", "iss", "aud", "sub"],
            )
            .await?;
        check_nonce_and_azp(claims, client_id, nonce)
    }

    /// Verifies a JWT the provider signed for this client (signature from the JWKS, `iss`, `aud`,
    /// the `required` claims, `exp`/`nbf` with clock skew) and decodes its claims.
    pub async fn verify<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        jwks_uri: &url::Url,
        issuer: &str,
        client_id: &str,
        required: &[&str],
    ) -> Result<T, IdTokenError> {
        self.decode(token, jwks_uri, issuer, Some(client_id), required)
            .await
    }

    /// As [`Jwks::verify`], but leaves `aud` to the caller: an access token's audience is checked
    /// per route, after a verification that is cached for every route (`crate::bearer`).
    pub async fn verify_any_audience<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        jwks_uri: &url::Url,
        issuer: &str,
        required: &[&str],
    ) -> Result<T, IdTokenError> {
        self.decode(token, jwks_uri, issuer, None, required).await
    }

    async fn decode<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        jwks_uri: &url::Url,
        issuer: &str,
        audience: Option<&str>,
        required: &[&str],
    ) -> Result<T, IdTokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
        if !allowed(header.alg) {
            return Err(IdTokenError::Algorithm);
        }
        let jwk = self.key(jwks_uri, header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| IdTokenError::Invalid(e.to_string()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(required);
        validation.validate_exp = required.contains(&"exp");
        validation.validate_nbf = true;
        validation.leeway = CLOCK_SKEW_SECS;
        jsonwebtoken::decode::<T>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| IdTokenError::Invalid(e.to_string()))
    }
}

/// The checks `jsonwebtoken` does not do: the login's nonce, and `azp` when present or when the
/// token has several audiences (OIDC Core §3.1.3.7 items 4–5, 11).
pub fn check_nonce_and_azp(
    claims: IdClaims,
    client_id: &str,
    nonce: &str,
) -> Result<IdClaims, IdTokenError> {
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(IdTokenError::Nonce);
    }
    match &claims.azp {
        Some(azp) if azp != client_id => return Err(IdTokenError::Azp),
        None if claims.aud.len() > 1 => return Err(IdTokenError::Azp),
        _ => {}
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
