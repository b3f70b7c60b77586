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
    /// What a step-up login asked for (`/auth/login?acr_values=&max_age=`), checked against the
    /// new ID token by the callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up: Option<StepUp>,
}

/// A step-up request (RFC 9470): the `acr` values one of which the new login must reach, and
/// how recent the user's authentication must be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepUp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// The most `acr_values` one login may ask for.
pub const MAX_ACR_VALUES: usize = 8;

impl StepUp {
    /// `acr_values` and `max_age` of `/auth/login`, checked: `acr_values` a space-separated
    /// list of at most [`MAX_ACR_VALUES`] safe values (`policy::is_acr_value`), `max_age` a
    /// non-negative integer. `None` when neither is given; `Err(parameter)` when one is bad.
    pub fn parse(
        acr_values: Option<&str>,
        max_age: Option<&str>,
    ) -> Result<Option<StepUp>, &'static str> {
        let acr_values = match acr_values {
            None => None,
            Some(v) => {
                let values: Vec<&str> = v.split(' ').collect();
                let ok = values.len() <= MAX_ACR_VALUES
                    && values.iter().all(|a| crate::policy::is_acr_value(a));
                if !ok {
                    return Err("acr_values");
                }
                Some(values.join(" "))
            }
        };
        let max_age = match max_age {
            None => None,
            Some(m) if !m.is_empty() && m.len() <= 10 && m.bytes().all(|b| b.is_ascii_digit()) => {
                Some(m.parse().map_err(|_| "max_age")?)
            }
            Some(_) => return Err("max_age"),
        };
        if acr_values.is_none() && max_age.is_none() {
            return Ok(None);
        }
        Ok(Some(StepUp {
            acr_values,
            max_age,
        }))
    }

    /// Whether the new login's `acr` and `auth_time` are what was asked; `Err(claim)` names
    /// the claim that is not. `skew` forgives clock differences on `auth_time`.
    pub fn satisfied_by(
        &self,
        acr: Option<&str>,
        auth_time: Option<u64>,
        now: u64,
        skew: u64,
    ) -> Result<(), &'static str> {
        if let Some(wanted) = &self.acr_values {
            if !acr.is_some_and(|a| wanted.split(' ').any(|w| w == a)) {
                return Err("acr");
            }
        }
        if let Some(max_age) = self.max_age {
            let recent = auth_time.is_some_and(|t| now.saturating_sub(t) <= max_age + skew);
            if !recent {
                return Err("auth_time");
            }
        }
        Ok(())
    }
}

impl Transaction {
    pub fn new(return_to: String, now: u64) -> Self {
        Transaction {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_verifier(),
            return_to,
            created_at: now,
            step_up: None,
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
        if let Some(step_up) = &tx.step_up {
            if let Some(acr_values) = &step_up.acr_values {
                q.append_pair("acr_values", acr_values);
            }
            if let Some(max_age) = step_up.max_age {
                q.append_pair("max_age", &max_age.to_string());
            }
        }
    }
    url
}

#[cfg(test)]
mod tests;
