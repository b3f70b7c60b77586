//! The keys of a route that say who may use it and what the upstream learns about the user
//! (docs/reference.md#access-policy-and-identity): `require:` (claim → accepted values, compiled
//! into a [`Policy`] here, once), `identity_headers:` (header → claim) and `upstream_headers:`
//! (header → static value), and the checks between them and the route's `auth`.

use super::fields;
use super::model::{AuthMode, IdentityHeader, RouteConfig, StaticHeader};
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::policy::glob::Glob;
use crate::policy::{self, Policy, Requirement, ACR};
use http::HeaderName;
use std::collections::BTreeSet;

/// `require:`: a mapping of claim names to one accepted value or a list of them.
pub(crate) fn require(w: &mut Walker, path: &str, node: &Node) -> Field<Policy> {
    let Some(entries) = mapping(w, path, node, "claim names to accepted values") else {
        return Field::Bad;
    };
    let mut requirements = Vec::with_capacity(entries.len());
    let mut bad = false;
    for (claim, value) in entries {
        let item_path = join(path, claim);
        if let Err(message) = fields::claim_name(claim) {
            w.error(&item_path, message);
            bad = true;
            continue;
        }
        match accepted(w, &item_path, claim, value) {
            Some(accepted) => requirements.push(Requirement {
                claim: claim.clone(),
                accepted,
            }),
            None => bad = true,
        }
    }
    if bad {
        Field::Bad
    } else {
        Field::Value(Policy::new(requirements))
    }
}

/// The values one claim accepts: a scalar or a non-empty list of scalars, as text.
fn accepted(w: &mut Walker, path: &str, claim: &str, node: &Node) -> Option<Vec<Glob>> {
    let items: Vec<(String, &Node)> = match node {
        Node::Seq(items) if items.is_empty() => {
            w.error(
                path,
                "an empty list accepts nothing: list at least one value",
            );
            return None;
        }
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{path}[{i}]"), n))
            .collect(),
        other => vec![(path.to_owned(), other)],
    };
    let mut values = Vec::with_capacity(items.len());
    for (item_path, item) in items {
        let text = match item {
            Node::Seq(_) | Node::Map(_) | Node::Null => {
                w.error(
                    &item_path,
                    format!(
                        "expected a string, true/false or an integer, got {}",
                        item.kind()
                    ),
                );
                None
            }
            Node::Float(_) => {
                w.error(
                    &item_path,
                    "values are compared as text: write an integer or a quoted string",
                );
                None
            }
            scalar => w.scalar_text(&item_path, scalar).value(),
        };
        let text = text?;
        if claim == ACR {
            if let Err(message) = fields::acr_value(&text) {
                w.error(&item_path, message);
                return None;
            }
        }
        values.push(Glob::new(&text));
    }
    Some(values)
}

/// `identity_headers:`: a mapping of upstream request headers to claim names.
pub(crate) fn identity_headers(
    w: &mut Walker,
    path: &str,
    node: &Node,
) -> Field<Vec<IdentityHeader>> {
    let Some(entries) = mapping(w, path, node, "header names to claim names") else {
        return Field::Bad;
    };
    let mut headers: Vec<IdentityHeader> = Vec::with_capacity(entries.len());
    let mut bad = false;
    for (name, value) in entries {
        let item_path = join(path, name);
        let name = header(w, &item_path, name, &headers);
        let claim = w.text(&item_path, value);
        let claim = w.convert(&item_path, claim, fields::claim_name);
        match (name, claim) {
            (Some(name), Field::Value(claim)) => headers.push(IdentityHeader { name, claim }),
            (_, Field::Absent) => {
                w.error(&item_path, "required: the claim the header carries");
                bad = true;
            }
            _ => bad = true,
        }
    }
    if bad {
        Field::Bad
    } else {
        Field::Value(headers)
    }
}

/// `upstream_headers:`: a mapping of upstream request headers to fixed values.
pub(crate) fn upstream_headers(
    w: &mut Walker,
    path: &str,
    node: &Node,
) -> Field<Vec<StaticHeader>> {
    let Some(entries) = mapping(w, path, node, "header names to values") else {
        return Field::Bad;
    };
    let mut headers: Vec<StaticHeader> = Vec::with_capacity(entries.len());
    let mut bad = false;
    for (name, value) in entries {
        let item_path = join(path, name);
        let name = header(w, &item_path, name, &headers);
        let value = w.scalar_text(&item_path, value);
        let value = w.convert(&item_path, value, fields::header_value);
        match (name, value) {
            (Some(name), Field::Value(mut value)) => {
                value.set_sensitive(true);
                headers.push(StaticHeader { name, value });
            }
            (_, Field::Absent) => {
                w.error(&item_path, "required: the header's value");
                bad = true;
            }
            _ => bad = true,
        }
    }
    if bad {
        Field::Bad
    } else {
        Field::Value(headers)
    }
}

/// Something with a header name, to refuse the same name twice in one mapping.
trait Named {
    fn name(&self) -> &HeaderName;
}

impl Named for IdentityHeader {
    fn name(&self) -> &HeaderName {
        &self.name
    }
}

impl Named for StaticHeader {
    fn name(&self) -> &HeaderName {
        &self.name
    }
}

/// A checked header name that `seen` does not hold yet (names are case-insensitive).
fn header(w: &mut Walker, path: &str, raw: &str, seen: &[impl Named]) -> Option<HeaderName> {
    match fields::upstream_header_name(raw) {
        Err(message) => {
            w.error(path, message);
            None
        }
        Ok(name) if seen.iter().any(|h| h.name() == name) => {
            w.error(
                path,
                format!("{name} is named twice (header names ignore case)"),
            );
            None
        }
        Ok(name) => Some(name),
    }
}

/// The entries of a mapping that must not be empty; `None` after an error.
fn mapping<'n>(
    w: &mut Walker,
    path: &str,
    node: &'n Node,
    what: &str,
) -> Option<&'n [(String, Node)]> {
    match node {
        Node::Map(entries) if !entries.is_empty() => Some(entries),
        Node::Map(_) => {
            w.error(
                path,
                format!("an empty mapping: map {what}, or remove the key"),
            );
            None
        }
        other => {
            w.error(
                path,
                format!("expected a mapping of {what}, got {}", other.kind()),
            );
            None
        }
    }
}

/// What a route's access keys say that contradicts its other keys.
pub(crate) fn check(w: &mut Walker, path: &str, route: &RouteConfig) {
    if route.auth == AuthMode::None {
        let no_session = "has no effect with auth: none (no session is read, so there is no \
                          user): remove it, or set auth: required or optional";
        if !route.require.is_empty() {
            w.error(&join(path, "require"), no_session);
        }
        if !route.identity_headers.is_empty() {
            w.error(&join(path, "identity_headers"), no_session);
        }
        if route.identity_assertion {
            w.error(&join(path, "identity_assertion"), no_session);
        }
    }
    for h in &route.upstream_headers {
        let item = join(&join(path, "upstream_headers"), h.name.as_str());
        if h.name == http::header::AUTHORIZATION && route.auth != AuthMode::None {
            w.error(
                &item,
                "would be replaced by the route's Bearer token: a static Authorization is \
                 allowed only with auth: none",
            );
        }
        if route.identity_headers.iter().any(|i| i.name == h.name) {
            w.error(
                &item,
                "is also in identity_headers: one header cannot carry both a claim and a fixed \
                 value",
            );
        }
    }
}

/// The claim names one route reads (its policy, its identity headers, `groups` and `email` for
/// the assertion): what a session must keep for it.
pub fn claims_used(route: &RouteConfig) -> impl Iterator<Item = &str> {
    let assertion: &[&str] = if route.identity_assertion {
        &["groups"]
    } else {
        &[]
    };
    route
        .require
        .claims()
        .chain(route.identity_headers.iter().map(|h| h.claim.as_str()))
        .chain(assertion.iter().copied())
}

/// Every claim name the routes read: what a session keeps, beyond `sub`, `name`, `email` and
/// `sid` (computed once per loaded config).
pub fn used_claims(routes: &[RouteConfig]) -> BTreeSet<String> {
    policy::used_claims(routes.iter().flat_map(claims_used))
}
