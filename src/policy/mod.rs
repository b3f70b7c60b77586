//! Who may use a route (docs/reference.md#access-policy-and-identity): a route's `require:`,
//! compiled once when the config is loaded ([`Policy`]), and checked against the request's
//! claims by a pure function ([`evaluate`]) that the pipeline's `policy` step calls.
//!
//! The rule: every key of `require:` must hold. A key holds when the claim's value matches one
//! of the listed values; an array claim holds when one of its items does. Values are compared as
//! text (a string as itself, `true`/`false`, an integer in decimal), so `email_verified: true`
//! accepts the boolean and the string `"true"` some providers send; `*` in a value matches any
//! run of characters ([`glob`]).
//!
//! Only `acr` is special: when it is the one requirement that fails, more authentication can fix
//! it, so the verdict is a step-up (RFC 9470) instead of a denial.

pub mod glob;

use crate::session::claims::{Known, USER_CLAIMS};
use crate::session::model::Session;
use glob::Glob;
use serde_json::Value;
use std::collections::BTreeSet;

/// The claim whose failure asks for a step-up login rather than a denial.
pub const ACR: &str = "acr";

/// One key of `require:`: the claim and the values it accepts (any one of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub claim: String,
    pub accepted: Vec<Glob>,
}

/// A route's `require:`, compiled. Empty: everyone with a session may use the route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    requirements: Vec<Requirement>,
    /// The accepted `acr` values, space-separated: the step-up challenge's `acr_values`.
    acr_values: Option<String>,
}

impl Policy {
    /// The `acr` requirement, if any, is checked last: a denial on another claim wins over a
    /// step-up, which could not fix it.
    pub fn new(mut requirements: Vec<Requirement>) -> Policy {
        requirements.sort_by_key(|r| r.claim == ACR);
        let acr_values = requirements.iter().find(|r| r.claim == ACR).map(|r| {
            let values: Vec<&str> = r.accepted.iter().map(Glob::as_str).collect();
            values.join(" ")
        });
        Policy {
            requirements,
            acr_values,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The claim names this policy reads.
    pub fn claims(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| r.claim.as_str())
    }
}

/// What the policy says about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict<'p> {
    Allow,
    /// The requirement on `claim` does not hold.
    Deny {
        claim: &'p str,
    },
    /// Only `acr` fails (or is not known): a login with these `acr_values` can fix it.
    StepUp {
        acr_values: &'p str,
    },
    /// The session did not keep `claim` (the config started using it after the login).
    Unknown {
        claim: &'p str,
    },
}

/// A claim as a request's identity holds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Claim<'a> {
    Text(&'a str),
    Json(&'a Value),
    Absent,
    /// The identity cannot tell (not read when it was made).
    Unknown,
}

/// Where a request's claims come from: the session (browser) or, for another kind of caller,
/// whatever holds its validated claims.
pub trait ClaimSource {
    fn claim(&self, name: &str) -> Claim<'_>;
}

impl ClaimSource for Session {
    fn claim(&self, name: &str) -> Claim<'_> {
        fn text(v: &Option<String>) -> Claim<'_> {
            v.as_deref().map_or(Claim::Absent, Claim::Text)
        }
        match name {
            "sub" => Claim::Text(&self.user.sub),
            "name" => text(&self.user.name),
            "email" => text(&self.user.email),
            "sid" => text(&self.user.sid),
            other => match self.claims.get(other) {
                Known::Value(v) => Claim::Json(v),
                Known::Absent => Claim::Absent,
                Known::Unknown => Claim::Unknown,
            },
        }
    }
}

/// Checks every requirement of `policy` against `claims`.
pub fn evaluate<'p>(policy: &'p Policy, claims: &impl ClaimSource) -> Verdict<'p> {
    for r in &policy.requirements {
        let holds = match claims.claim(&r.claim) {
            Claim::Unknown if r.claim != ACR => return Verdict::Unknown { claim: &r.claim },
            Claim::Unknown | Claim::Absent => false,
            Claim::Text(t) => accepts(&r.accepted, t),
            Claim::Json(v) => json_holds(&r.accepted, v),
        };
        if !holds {
            return match (&policy.acr_values, r.claim == ACR) {
                (Some(acr_values), true) => Verdict::StepUp { acr_values },
                _ => Verdict::Deny { claim: &r.claim },
            };
        }
    }
    Verdict::Allow
}

fn accepts(accepted: &[Glob], text: &str) -> bool {
    accepted.iter().any(|g| g.matches(text))
}

/// A JSON claim holds when it (or, for an array, one of its items) matches.
fn json_holds(accepted: &[Glob], value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| scalar_holds(accepted, item)),
        scalar => scalar_holds(accepted, scalar),
    }
}

fn scalar_holds(accepted: &[Glob], value: &Value) -> bool {
    match value {
        Value::String(s) => accepts(accepted, s),
        Value::Bool(true) => accepts(accepted, "true"),
        Value::Bool(false) => accepts(accepted, "false"),
        Value::Number(n) => accepts(accepted, &n.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// The longest `acr` value accepted (in `require:` and in `/auth/login?acr_values=`).
pub const MAX_ACR_VALUE_LEN: usize = 256;

/// An `acr` value that can travel in a query, a JSON string and a quoted `WWW-Authenticate`
/// parameter unchanged: visible ASCII without `"` and `\`, not empty, bounded.
pub fn is_acr_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ACR_VALUE_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

/// The claim names a session must keep for a config, beyond `USER_CLAIMS`: every claim a
/// route's `require:` or `identity_headers:` reads, and `groups` when a route sends the identity
/// assertion. Computed once per loaded config.
pub fn used_claims<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names
        .into_iter()
        .filter(|n| !USER_CLAIMS.contains(n))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;
