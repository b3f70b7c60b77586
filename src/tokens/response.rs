//! Judging the token endpoint's answer to a `refresh_token` grant. The HTTP call lives in
//! `tokens::client`; this module turns `(status, body)` into one [`Exchange`] outcome, which maps
//! one-to-one onto a row of the outcome table in contract §4. It is pure so that every row, and
//! every way a provider can misbehave, has a unit test without a network.
//!
//! Two rules shape it. A token is forwarded only when it is certainly usable (non-empty, Bearer,
//! for the audience asked for): a bad token forwarded upstream is worse than a clean error. And a
//! rotated refresh token is reported from *every* parseable answer, success or not: the provider
//! has already retired the old one, so dropping the new one turns the next exchange into a reuse,
//! which providers punish by revoking the whole grant.

use crate::tokens::scope::Scope;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use serde_json::{Map, Value};
use std::fmt;

/// Larger answers are not parsed: a token response is a few KiB, and the work must be bounded.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// When neither `expires_in` nor a JWT `exp` says how long a token lives, it is trusted for five
/// minutes: short enough that a revoked token is not used for long, long enough to be a cache.
pub const DEFAULT_LIFETIME_SECS: u64 = 300;

/// An access token the provider issued, with what it was granted for and until when.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    pub access_token: String,
    /// The granted scope: the response's `scope`, or the requested one when it is omitted.
    pub scope: Scope,
    pub expires_at: u64,
}

/// The outcome of one exchange; each variant is one row of the contract's outcome table.
#[derive(Clone, PartialEq, Eq)]
pub enum Exchange {
    Success {
        grant: Grant,
        refresh_token: Option<String>,
        id_token: Option<String>,
    },
    /// 400/401 with `error=invalid_grant`: the refresh token is revoked, expired or reused.
    InvalidGrant,
    /// 5xx, 429, 408 (the caller reports timeouts and connection errors with `status: None`).
    Unavailable { status: Option<u16> },
    /// Any other 4xx. `code` is echoed to the client, so it is always a plain token.
    Denied {
        code: String,
        refresh_token: Option<String>,
    },
    /// A 2xx that cannot be used, or a status the grant never answers with.
    InvalidResponse {
        reason: &'static str,
        refresh_token: Option<String>,
    },
    /// The access token is a JWT for another audience (Auth0 does this outside the client's
    /// refresh-token policy): it must neither be forwarded nor cached.
    AudienceMismatch { refresh_token: Option<String> },
}

impl Exchange {
    /// The `outcome` label of `tokengate_token_requests_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Exchange::Success { .. } => "success",
            Exchange::InvalidGrant => "invalid_grant",
            Exchange::Unavailable { .. } => "unavailable",
            Exchange::Denied { .. } => "denied",
            Exchange::InvalidResponse { .. } => "invalid_response",
            Exchange::AudienceMismatch { .. } => "audience_mismatch",
        }
    }

    /// The rotated refresh token this answer carries, whatever the outcome: the caller stores it.
    pub fn refresh_token(&self) -> Option<&str> {
        match self {
            Exchange::Success { refresh_token, .. }
            | Exchange::Denied { refresh_token, .. }
            | Exchange::InvalidResponse { refresh_token, .. }
            | Exchange::AudienceMismatch { refresh_token } => refresh_token.as_deref(),
            Exchange::InvalidGrant | Exchange::Unavailable { .. } => None,
        }
    }
}

/// Judges one token-endpoint answer. `audience` and `requested` are what the request asked for;
/// `now` is the current Unix time.
pub fn judge(
    status: u16,
    body: &[u8],
    audience: Option<&str>,
    requested: &Scope,
    now: u64,
) -> Exchange {
    if matches!(status, 408 | 429 | 500..=599) {
        // Decided by the status alone: a gateway's error page is often large and never JSON.
        return Exchange::Unavailable {
            status: Some(status),
        };
    }
    if body.len() > MAX_BODY_BYTES {
        return Exchange::InvalidResponse {
            reason: "too_large",
            refresh_token: None,
        };
    }
    let object = serde_json::from_slice::<Map<String, Value>>(body).ok();
    let refresh_token = object
        .as_ref()
        .and_then(|o| non_blank_string(o, "refresh_token"));
    match (status, object) {
        (200..=299, Some(object)) => {
            judge_success(&object, audience, requested, now, refresh_token)
        }
        (200..=299, None) => Exchange::InvalidResponse {
            reason: "unparseable",
            refresh_token: None,
        },
        (400..=499, object) => {
            let code = error_code(status, object.as_ref());
            if matches!(status, 400 | 401) && code == "invalid_grant" {
                Exchange::InvalidGrant
            } else {
                Exchange::Denied {
                    code,
                    refresh_token,
                }
            }
        }
        _ => Exchange::InvalidResponse {
            reason: "status",
            refresh_token,
        },
    }
}

fn judge_success(
    object: &Map<String, Value>,
    audience: Option<&str>,
    requested: &Scope,
    now: u64,
    refresh_token: Option<String>,
) -> Exchange {
    let invalid = |reason| Exchange::InvalidResponse {
        reason,
        refresh_token: refresh_token.clone(),
    };
    let access_token = match object.get("access_token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t,
        _ => return invalid("missing_access_token"),
    };
    // It goes into `Authorization: Bearer <token>`: a space, a control character or a non-ASCII
    // byte would make an invalid header or smuggle one, so only visible ASCII passes.
    if !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return invalid("access_token_charset");
    }
    match object.get("token_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return invalid("token_type"),
    }
    let claims = jwt_claims(access_token);
    let expires_at = match object.get("expires_in") {
        None | Some(Value::Null) => claims
            .as_ref()
            .and_then(|c| c.get("exp"))
            .and_then(positive_seconds)
            .unwrap_or_else(|| now.saturating_add(DEFAULT_LIFETIME_SECS)),
        Some(v) => match positive_seconds(v) {
            Some(secs) => now.saturating_add(secs),
            None => return invalid("expires_in"),
        },
    };
    // An access token already past its own `exp` would only be refused by the API; forwarding
    // it hides the problem (often a clock difference) behind the API's 401, and caching it never
    // hits, so every request would exchange again.
    if expires_at <= now {
        return invalid("expired");
    }
    let scope = match object.get("scope") {
        None | Some(Value::Null) => requested.clone(),
        Some(Value::String(s)) => Scope::parse(s),
        Some(_) => return invalid("scope"),
    };
    if let (Some(wanted), Some(auds)) = (audience, claims.as_ref().and_then(audiences_of)) {
        if !auds.iter().any(|a| a == wanted) {
            return Exchange::AudienceMismatch { refresh_token };
        }
    }
    Exchange::Success {
        grant: Grant {
            access_token: access_token.clone(),
            scope,
            expires_at,
        },
        refresh_token,
        id_token: non_blank_string(object, "id_token"),
    }
}

/// The `error` of an error body, safe to echo to a client; `http_<status>` when there is none.
fn error_code(status: u16, object: Option<&Map<String, Value>>) -> String {
    match object.and_then(|o| o.get("error")) {
        None | Some(Value::Null) => format!("http_{status}"),
        Some(Value::String(code)) if is_plain_code(code) => code.clone(),
        Some(_) => "invalid_error_code".to_owned(),
    }
}

/// `[A-Za-z0-9_.-]{1,64}`: what RFC 6749 error codes look like, and nothing a client could
/// mistake for markup or a header.
fn is_plain_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn non_blank_string(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A whole number of seconds, at least 1, from a JSON number or a numeric string (some providers
/// send `"3600"`). Fractions are rounded down; anything else is `None`.
fn positive_seconds(value: &Value) -> Option<u64> {
    let secs = match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().and_then(whole_seconds)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(whole_seconds))
        }
        _ => None,
    };
    secs.filter(|&s| s > 0)
}

fn whole_seconds(f: f64) -> Option<u64> {
    // `as` saturates, so a huge finite value becomes u64::MAX rather than wrapping.
    (f.is_finite() && f >= 0.0).then(|| f.floor() as u64)
}

/// base64url as JWTs use it; padding tolerated, since some encoders add it.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The claims of a JWS-compact token (three base64url segments, the middle one a JSON object),
/// decoded **without** checking the signature. Only for reading `aud` and `exp` of a token the
/// gateway just received from the token endpoint over TLS: never for trusting a token from
/// elsewhere. `None` for anything else, an opaque token included.
pub fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let is_b64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
    };
    if header.is_empty() || !is_b64url(header) || !is_b64url(signature) {
        return None;
    }
    let bytes = B64URL.decode(payload).ok()?;
    serde_json::from_slice::<Map<String, Value>>(&bytes).ok()
}

/// The audiences a JWT names in `aud` (a string or an array of strings). `None` when the token is
/// not a JWT or has no `aud`. A malformed `aud` (a number, an array without strings) names no
/// audience, `Some(vec![])`, so it never passes an audience check.
pub fn jwt_audiences(token: &str) -> Option<Vec<String>> {
    jwt_claims(token).as_ref().and_then(audiences_of)
}

fn audiences_of(claims: &Map<String, Value>) -> Option<Vec<String>> {
    match claims.get("aud")? {
        Value::Null => None,
        Value::String(a) => Some(vec![a.clone()]),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => Some(Vec::new()),
    }
}

/// Tokens never reach `Debug` output (contract §1: no log line contains a token).
struct Redacted<'a>(&'a Option<String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(***)"
        } else {
            "None"
        })
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"***")
            .field("scope", &self.scope.to_string())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exchange::Success {
                grant,
                refresh_token,
                id_token,
            } => f
                .debug_struct("Success")
                .field("grant", grant)
                .field("refresh_token", &Redacted(refresh_token))
                .field("id_token", &Redacted(id_token))
                .finish(),
            Exchange::InvalidGrant => f.write_str("InvalidGrant"),
            Exchange::Unavailable { status } => f
                .debug_struct("Unavailable")
                .field("status", status)
                .finish(),
            Exchange::Denied {
                code,
                refresh_token,
            } => f
                .debug_struct("Denied")
                .field("code", code)
                .field("refresh_token", &Redacted(refresh_token))
                .finish(),
            Exchange::InvalidResponse {
                reason,
                refresh_token,
            } => f
                .debug_struct("InvalidResponse")
                .field("reason", reason)
                .field("refresh_token", &Redacted(refresh_token))
                .finish(),
            Exchange::AudienceMismatch { refresh_token } => f
                .debug_struct("AudienceMismatch")
                .field("refresh_token", &Redacted(refresh_token))
                .finish(),
        }
    }
}

#[cfg(test)]
#[path = "response_tests/mod.rs"]
mod tests;
