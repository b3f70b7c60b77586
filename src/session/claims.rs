//! The user's claims a session keeps beyond [`User`](super::model::User) (`sub`, `name`,
//! `email`, `sid`): only those the loaded config uses, in `require:`, `identity_headers:` or the
//! identity assertion (docs/reference.md#access-policy-and-identity), so that a user's 200 groups
//! are not carried in every cookie unless a route needs them.
//!
//! A session also remembers which of the used claims the user did *not* have. Together they say
//! what the session knows: a claim that is neither held nor lacking was not asked for when the
//! session's identity was last read (the config changed since), and the policy then asks for a
//! new login instead of guessing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Names of the claims `User` always holds; never listed in [`Claims`].
pub const USER_CLAIMS: [&str; 4] = ["sub", "name", "email", "sid"];

/// Claims kept in a session. Serialised with short names inside the sealed session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The used claims the user has, with their values (strings, booleans, numbers, or arrays
    /// of those).
    #[serde(rename = "h", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held: BTreeMap<String, Value>,
    /// The used claims the user does not have (or whose value is not one of the kinds above).
    #[serde(rename = "n", default, skip_serializing_if = "BTreeSet::is_empty")]
    pub lacking: BTreeSet<String>,
}

/// What a session knows of one claim.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Known<'a> {
    Value(&'a Value),
    /// The user does not have it.
    Absent,
    /// Not read when the session's identity was: the session cannot tell.
    Unknown,
}

impl Claims {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty() && self.lacking.is_empty()
    }

    /// Keeps the claims named in `used` (other than `USER_CLAIMS`) from a validated ID token's
    /// or userinfo answer's claims.
    pub fn keep(source: &Map<String, Value>, used: &BTreeSet<String>) -> Claims {
        let mut claims = Claims::default();
        for name in used.iter().filter(|n| !USER_CLAIMS.contains(&n.as_str())) {
            match source.get(name).and_then(keepable) {
                Some(value) => {
                    claims.held.insert(name.clone(), value);
                }
                None => {
                    claims.lacking.insert(name.clone());
                }
            }
        }
        claims
    }

    /// The claims after a refresh's new ID token, when userinfo was also read at login: a claim
    /// the new token does not carry keeps the value the session held, because it may have come
    /// from userinfo, which a refresh does not read again; without this a userinfo-only claim
    /// would turn "lacking" at the first refresh. Claims the token carries win.
    pub fn refreshed_over(mut self, previous: &Claims) -> Claims {
        for (name, value) in &previous.held {
            if self.lacking.remove(name) {
                self.held.insert(name.clone(), value.clone());
            }
        }
        self
    }

    /// What the session knows of claim `name` (not one of `USER_CLAIMS`).
    pub fn get(&self, name: &str) -> Known<'_> {
        match self.held.get(name) {
            Some(v) => Known::Value(v),
            None if self.lacking.contains(name) => Known::Absent,
            None => Known::Unknown,
        }
    }
}

/// The value as kept: scalars as they are, arrays without their non-scalar items; `null` and
/// objects are not kept (no requirement or header can use them).
fn keepable(value: &Value) -> Option<Value> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Bool(_) | Value::Number(_));
    match value {
        v if scalar(v) => Some(v.clone()),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter(|v| scalar(v)).cloned().collect(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
