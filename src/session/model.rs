//! What a session holds. This is the plaintext that the codec seals into the cookie (or into the
//! Redis record), so field names are short: every byte counts against the 4000-byte cookie limit.

use super::claims::Claims;
use crate::scope::Scope;
use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch. Sessions and tokens only need second precision.
pub type UnixSeconds = u64;

/// The current wall-clock time in Unix seconds.
pub fn now() -> UnixSeconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One access token with what it is good for. `scope` is what the provider *granted*, which is
/// what selection matches on; `requested` remembers what was asked, so that a narrower grant is
/// recognised and not asked for again until it expires.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(rename = "s")]
    pub scope: Scope,
    #[serde(rename = "q", default)]
    pub requested: Scope,
    #[serde(rename = "t")]
    pub access_token: String,
    #[serde(rename = "e")]
    pub expires_at: UnixSeconds,
    /// For least-recently-used eviction when more than `tokens.max_cached` are held.
    #[serde(rename = "u", default)]
    pub last_used: UnixSeconds,
}

/// The user as the ID token described them at login. `sid` is the provider's session id, used by
/// back-channel logout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// A logged-in session. `version` grows by one on every change, so that of two copies of one
/// session (a stale cookie and the gateway's latest state) the newer one is known.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "i")]
    pub sid: String,
    #[serde(rename = "v")]
    pub version: u64,
    #[serde(rename = "c")]
    pub created_at: UnixSeconds,
    #[serde(rename = "l")]
    pub last_seen: UnixSeconds,
    #[serde(rename = "u")]
    pub user: User,
    /// The claims the config's policy and identity headers use, beyond `user`. Absent in cookies
    /// written before they existed: such a session knows none of them.
    #[serde(rename = "k", default, skip_serializing_if = "Claims::is_empty")]
    pub claims: Claims,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The access token obtained at login, for the login audience.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<TokenSet>,
    /// Tokens obtained later for other audiences or scopes (at most `tokens.max_cached`).
    #[serde(rename = "x", default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<TokenSet>,
}

impl Session {
    /// A fresh session with a random id, as created by a login.
    pub fn new(user: User, now: UnixSeconds) -> Self {
        Session {
            sid: new_session_id(),
            version: 1,
            created_at: now,
            last_seen: now,
            user,
            claims: Claims::default(),
            refresh_token: None,
            id_token: None,
            primary: None,
            extra: Vec::new(),
        }
    }
}

/// 128 random bits, base64url: unguessable, and short in the cookie.
pub fn new_session_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Debug output never shows a token: a `{:?}` in a log line must not leak one.
impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("audience", &self.audience)
            .field("scope", &self.scope.to_string())
            .field("requested", &self.requested.to_string())
            .field("access_token", &"***")
            .field("expires_at", &self.expires_at)
            .field("last_used", &self.last_used)
            .finish()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .field("sub", &self.user.sub)
            .field("claims", &self.claims.held.len())
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("id_token", &self.id_token.as_ref().map(|_| "***"))
            .field("primary", &self.primary)
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}
