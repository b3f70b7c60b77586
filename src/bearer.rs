//! Machine clients' own access tokens (`bearer: accept`, docs/reference.md#machine-clients): the
//! pure rules and the cache. A client without a session may present `Authorization: Bearer
//! <JWT>`; the gateway verifies the signature once per token (`id_token::Jwks`, the pipeline's
//! `bearer` step) and keeps the verified claims here, keyed by the token's SHA-256, until the
//! token expires. What differs per route (audience, scope, `require:`) is checked on every
//! request, from the cache or not, by [`check`] and the policy.
//!
//! The cache is bounded by weight (about the token's size per entry, [`CACHE_MAX_BYTES`] in
//! all): a flood of distinct valid tokens evicts older entries, which then cost one more
//! verification; it never grows the process without limit. An entry outlives no token: it
//! expires at the token's `exp` (plus the clock skew every check forgives).

use crate::id_token::CLOCK_SKEW_SECS;
use crate::policy::{Claim, ClaimSource};
use crate::scope::Scope;
use crate::session::model::{now, UnixSeconds};
use http::HeaderMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest token accepted. Real access tokens are a few KiB; a longer header is refused
/// before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The cache's bound, in bytes of token (plus a fixed overhead per entry).
pub const CACHE_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// What one entry weighs beyond its token's length.
const ENTRY_OVERHEAD: usize = 512;

/// Why a presented token is refused as `invalid_token`: a short reason for logs and tests, never
/// the token or a claim's value.
pub type Invalid = &'static str;

/// The verified claims of one access token.
#[derive(Debug)]
pub struct AccessClaims {
    pub exp: UnixSeconds,
    pub nbf: Option<UnixSeconds>,
    pub aud: Vec<String>,
    /// Granted scope: `scope` (space-separated) or `scp` (an array, or a string).
    pub scope: Scope,
    /// Every claim, for `require:` and identity headers.
    claims: Map<String, Value>,
    /// The token's length, the entry's weight in the cache.
    len: usize,
}

impl AccessClaims {
    /// Reads the claims the checks need from a verified token's payload.
    pub fn new(claims: Map<String, Value>, token_len: usize) -> Result<AccessClaims, Invalid> {
        let exp = claims.get("exp").and_then(Value::as_u64).ok_or("exp")?;
        let nbf = match claims.get("nbf") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or("nbf")?),
        };
        let aud = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => return Err("aud"),
        };
        let scope = match (claims.get("scope"), claims.get("scp")) {
            (Some(Value::String(s)), _) | (None, Some(Value::String(s))) => Scope::parse(s),
            (None, Some(Value::Array(items))) => {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                Scope::parse(&joined.join(" "))
            }
            (None, None) => Scope::empty(),
            _ => return Err("scope"),
        };
        Ok(AccessClaims {
            exp,
            nbf,
            aud,
            scope,
            claims,
            len: token_len,
        })
    }
}

impl ClaimSource for AccessClaims {
    fn claim(&self, name: &str) -> Claim<'_> {
        match self.claims.get(name) {
            None | Some(Value::Null) => Claim::Absent,
            Some(Value::String(s)) => Claim::Text(s),
            Some(v) => Claim::Json(v),
        }
    }
}

/// The token of the request's `Authorization: Bearer` header: `Ok(None)` when the request
/// carries no Bearer credentials (no `Authorization`, or another scheme), an error when it does
/// but they cannot be a JWT (several headers, not text, empty, too long, not three base64url
/// segments).
pub fn presented(headers: &HeaderMap) -> Result<Option<&str>, Invalid> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let scheme_end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
    let is_bearer = bytes[..scheme_end].eq_ignore_ascii_case(b"bearer");
    if values.next().is_some() {
        return Err("several authorization headers");
    }
    if !is_bearer {
        return Ok(None);
    }
    if bytes.len() > MAX_TOKEN_LEN + scheme_end + 1 {
        return Err("too long");
    }
    // The scheme is ASCII, so `scheme_end` is a character boundary.
    let token = value.to_str().map_err(|_| "not text")?[scheme_end..].trim();
    let segments: Vec<&str> = token.split('.').collect();
    let base64url = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if segments.len() != 3 || !segments.iter().all(base64url) {
        return Err("not a JWT");
    }
    Ok(Some(token))
}

/// Why a verified token does not serve this route.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `401 invalid_token`.
    Invalid(Invalid),
    /// `403 insufficient_scope` with the scopes it lacks.
    Scope(Scope),
}

/// The per-route checks, on every request (cached or not): the time window with the clock skew,
/// the route's audience, and its scope.
pub fn check(
    claims: &AccessClaims,
    audience: &str,
    scope: &Scope,
    now: UnixSeconds,
) -> Result<(), Refusal> {
    if claims.exp.saturating_add(CLOCK_SKEW_SECS) <= now {
        return Err(Refusal::Invalid("expired"));
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(CLOCK_SKEW_SECS))
    {
        return Err(Refusal::Invalid("not yet valid"));
    }
    if !claims.aud.iter().any(|a| a == audience) {
        return Err(Refusal::Invalid("audience"));
    }
    if !claims.scope.covers(scope) {
        return Err(Refusal::Scope(claims.scope.missing(scope)));
    }
    Ok(())
}

type Key = [u8; 32];

/// Verified tokens by their SHA-256 (the token itself is never a key: a heap dump shows no
/// usable credential beyond the claims).
pub struct BearerCache {
    cache: moka::sync::Cache<Key, Arc<AccessClaims>>,
}

/// Each entry expires when its token does.
struct UntilExp;

impl moka::Expiry<Key, Arc<AccessClaims>> for UntilExp {
    fn expire_after_create(
        &self,
        _: &Key,
        value: &Arc<AccessClaims>,
        _: Instant,
    ) -> Option<Duration> {
        let end = value.exp.saturating_add(CLOCK_SKEW_SECS);
        Some(Duration::from_secs(end.saturating_sub(now())))
    }
}

impl BearerCache {
    pub fn new() -> BearerCache {
        BearerCache::with_capacity(CACHE_MAX_BYTES)
    }

    /// A cache bounded to `max_bytes` of token weight.
    pub fn with_capacity(max_bytes: u64) -> BearerCache {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &Key, c: &Arc<AccessClaims>| {
                u32::try_from(c.len + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
            })
            .expire_after(UntilExp)
            .build();
        BearerCache { cache }
    }

    pub fn get(&self, token: &str) -> Option<Arc<AccessClaims>> {
        self.cache.get(&key(token))
    }

    pub fn insert(&self, token: &str, claims: Arc<AccessClaims>) {
        self.cache.insert(key(token), claims);
    }
}

impl Default for BearerCache {
    fn default() -> Self {
        Self::new()
    }
}

fn key(token: &str) -> Key {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests;
