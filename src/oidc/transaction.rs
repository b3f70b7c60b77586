//! The pure parts of the authorization-code login (`login` starts it, `callback` finishes it):
//! the transaction a login carries across the redirect to the provider (sealed into a
//! short-lived cookie named after its `state`, so logins started in several tabs do not
//! overwrite each other), PKCE S256, and the authorization URL.

use crate::config::{Config, ResourceParam};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

/// How long a login may take between `/auth/login` and `/auth/callback`.
pub const TRANSACTION_TTL_SECS: u64 = 600;

/// What `/auth/callback` needs to finish the login started by `/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    pub return_to: String,
    pub created_at: u64,
}

impl Transaction {
    pub fn new(return_to: String, now: u64) -> Self {
        Transaction {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_verifier(),
            return_to,
            created_at: now,
        }
    }

    pub fn expired(&self, now: u64) -> bool {
        now >= self.created_at.saturating_add(TRANSACTION_TTL_SECS)
    }
}

/// The cookie that carries the transaction of `state`: `NAME-tx.<state>`.
pub fn transaction_cookie_name(session_cookie: &str, state: &str) -> String {
    format!("{session_cookie}-tx.{state}")
}

/// The codec purpose for transaction cookies, so one can never be opened as a session.
pub fn transaction_purpose(session_cookie: &str) -> String {
    format!("tx:{session_cookie}")
}

/// A `state` value is ours only if it has the shape we generate (it becomes part of a cookie name).
pub fn plausible_state(state: &str) -> bool {
    state.len() == 22
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 128 random bits, base64url (22 characters).
pub fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A PKCE code verifier: 256 random bits, base64url (43 characters, RFC 7636 §4.1).
pub fn random_verifier() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `public_url` + `/auth/callback`.
pub fn redirect_uri(config: &Config) -> String {
    format!(
        "{}/auth/callback",
        config.server.public_url.as_str().trim_end_matches('/')
    )
}

/// The provider's authorization URL for `tx`.
pub fn authorization_url(authorization_endpoint: &Url, config: &Config, tx: &Transaction) -> Url {
    let mut url = authorization_endpoint.clone();
    let scope = config.provider.login.scope.to_string();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &config.provider.client_id)
            .append_pair("redirect_uri", &redirect_uri(config))
            .append_pair("scope", &scope)
            .append_pair("state", &tx.state)
            .append_pair("nonce", &tx.nonce)
            .append_pair("code_challenge", &code_challenge(&tx.code_verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(aud) = &config.provider.login.audience {
            let name = match config.provider.resource_param {
                ResourceParam::Audience => "audience",
                ResourceParam::Resource => "resource",
            };
            q.append_pair(name, aud);
        }
    }
    url
}

#[cfg(test)]
mod tests;
