//! OAuth scopes as a set. A scope string is space-separated and unordered (RFC 6749 §3.3), so
//! comparing strings is wrong: "a b" and "b a" are the same grant, and a token granted "a b c"
//! serves a route that needs "a c". Every token-selection decision goes through [`Scope::covers`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// An ordered set of scope tokens. Ordered so that its string form is canonical.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// The empty scope: covered by every grant.
    pub fn empty() -> Self {
        Scope(BTreeSet::new())
    }

    /// Parses a space-separated scope string; repeated and surrounding whitespace is ignored.
    pub fn parse(s: &str) -> Self {
        Scope(s.split_ascii_whitespace().map(str::to_owned).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// True when every scope in `required` is in `self`: a token granted `self` may serve a
    /// request that needs `required`.
    pub fn covers(&self, required: &Scope) -> bool {
        required.0.is_subset(&self.0)
    }

    /// The scopes of `required` that `self` lacks (for `insufficient_scope` answers).
    pub fn missing(&self, required: &Scope) -> Scope {
        Scope(required.0.difference(&self.0).cloned().collect())
    }

    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    /// The canonical form: sorted, single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(Scope::parse(&s))
    }
}

#[cfg(test)]
mod tests;
