//! `X-Tokengate-Assertion`: a compact JWS (ES256) that tells an upstream who the user is, which
//! it can verify with the gateway's published keys (`GET /.well-known/tokengate/jwks.json`)
//! instead of trusting a plain header. Claims: `iss` = the public origin, `aud` = the route's
//! upstream origin (an assertion made for one upstream is refused by another), `sub`, `email`
//! and `groups` when the user has them, `iat`, and `exp` = `iat` + [`LIFETIME`].
//!
//! Signing costs far more than the rest of a request, so an assertion is reused for the same
//! session and route while more than half of its life is left. The reuse cache is bounded and
//! may drop entries at any time (that only costs a signature); an entry is used only after it is
//! checked to be for the same session, user, claims, route, audience and key, so a hash
//! collision can never hand one user's assertion to another.

use crate::jwt_crypto::signing_key::SigningKey;
use crate::policy::{Claim, ClaimSource};
use crate::session::model::{Session, UnixSeconds};
use http::HeaderValue;
use serde::Serialize;
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// How long an assertion is valid.
pub const LIFETIME: u64 = 60;
/// The reuse cache's memory bound.
const CACHE_MAX_BYTES: u64 = 32 * 1024 * 1024;

/// The claims of an assertion.
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a Value>,
    iat: UnixSeconds,
    exp: UnixSeconds,
}

/// What an assertion was made for, checked on every reuse.
#[derive(PartialEq)]
struct Subject {
    sid: String,
    route: String,
    audience: String,
    sub: String,
    email: Option<String>,
    groups: Option<Value>,
}

struct Cached {
    subject: Subject,
    kid: String,
    exp: UnixSeconds,
    value: HeaderValue,
}

/// The assertion keys of one loaded config and the assertions made with them.
pub struct Assertions {
    /// The first key signs; every key is published.
    keys: Vec<Arc<SigningKey>>,
    issuer: String,
    cache: moka::sync::Cache<u64, Arc<Cached>>,
}

impl Assertions {
    /// `None` without keys (no route sends the assertion; the JWKS endpoint answers 404).
    pub fn new(keys: Vec<Arc<SigningKey>>, issuer: String) -> Option<Assertions> {
        if keys.is_empty() {
            return None;
        }
        let cache = moka::sync::Cache::builder()
            .max_capacity(CACHE_MAX_BYTES)
            .weigher(|_: &u64, c: &Arc<Cached>| {
                u32::try_from(c.value.len() * 2 + 256).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(LIFETIME))
            .build();
        Some(Assertions {
            keys,
            issuer,
            cache,
        })
    }

    /// The published keys: `{"keys": [JWK, ...]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() })
    }

    /// The assertion for `session` on route `route` (whose upstream origin is `audience`) at
    /// `now`: a fresh enough earlier one, or a new signature.
    pub fn for_session(
        &self,
        session: &Session,
        route: &str,
        audience: &str,
        now: UnixSeconds,
    ) -> Result<HeaderValue, String> {
        let signer = self.keys.first().ok_or("no assertion key")?;
        let groups = match session.claim("groups") {
            Claim::Json(v) => Some(v),
            _ => None,
        };
        let email = session.user.email.as_deref();
        let key = cache_key(&session.sid, route);
        if let Some(hit) = self.cache.get(&key) {
            let s = &hit.subject;
            let same = s.sid == session.sid
                && s.route == route
                && s.audience == audience
                && s.sub == session.user.sub
                && s.email.as_deref() == email
                && s.groups.as_ref() == groups
                && hit.kid == signer.kid();
            if same && hit.exp.saturating_sub(now) > LIFETIME / 2 {
                return Ok(hit.value.clone());
            }
        }
        let claims = AssertionClaims {
            iss: &self.issuer,
            aud: audience,
            sub: &session.user.sub,
            email,
            groups,
            iat: now,
            exp: now + LIFETIME,
        };
        let token = signer.sign(&claims)?;
        let mut value = HeaderValue::from_str(&token).map_err(|e| e.to_string())?;
        value.set_sensitive(true);
        let cached = Cached {
            subject: Subject {
                sid: session.sid.clone(),
                route: route.to_owned(),
                audience: audience.to_owned(),
                sub: session.user.sub.clone(),
                email: email.map(str::to_owned),
                groups: groups.cloned(),
            },
            kid: signer.kid().to_owned(),
            exp: claims.exp,
            value: value.clone(),
        };
        self.cache.insert(key, Arc::new(cached));
        Ok(value)
    }
}

/// Where an assertion is kept: a hash of the session id and the route (the entry itself says
/// exactly what it is for).
fn cache_key(sid: &str, route: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    sid.hash(&mut h);
    route.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests;
