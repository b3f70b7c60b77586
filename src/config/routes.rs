//! The `routes` list of `routes.yaml`: each entry's fields, plus the checks that span entries
//! (unique names, unique `(host, path_prefix)` pairs), reported on the later entry so the message
//! can point back at the first.

use super::fields;
use super::model::{AuthMode, RouteConfig};
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::tokens::scope::Scope;
use std::collections::HashMap;

const ROUTE_KEYS: &[&str] = &[
    "name",
    "path_prefix",
    "host",
    "upstream",
    "strip_prefix",
    "auth",
    "audience",
    "scope",
    "csrf",
];

/// Reads the whole list; `None` when it is missing, empty or has a bad entry.
pub(crate) fn routes(w: &mut Walker, node: &Node) -> Option<Vec<RouteConfig>> {
    let items = match node {
        Node::Seq(items) => items,
        Node::Null => {
            w.error("routes", "required (at least one route)");
            return None;
        }
        other => {
            w.error(
                "routes",
                format!("expected a list of routes, got {}", other.kind()),
            );
            return None;
        }
    };
    if items.is_empty() {
        w.error("routes", "at least one route is required");
        return None;
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut places: HashMap<(Option<String>, String), usize> = HashMap::new();
    let mut routes = Vec::with_capacity(items.len());
    let mut complete = true;
    for (i, item) in items.iter().enumerate() {
        let path = format!("routes[{i}]");
        let Some(route) = route(w, &path, item) else {
            complete = false;
            continue;
        };
        if let Some(first) = names.get(&route.name) {
            w.error(
                &join(&path, "name"),
                format!(
                    "duplicate route name {:?} (already used by routes[{first}])",
                    route.name
                ),
            );
            complete = false;
        } else {
            names.insert(route.name.clone(), i);
        }
        let place = (route.host.clone(), route.path_prefix.clone());
        if let Some(first) = places.get(&place) {
            w.error(
                &join(&path, "path_prefix"),
                format!(
                    "routes[{first}] already has the same host and path_prefix {:?}",
                    route.path_prefix
                ),
            );
            complete = false;
        } else {
            places.insert(place, i);
        }
        routes.push(route);
    }
    complete.then_some(routes)
}

fn route(w: &mut Walker, path: &str, node: &Node) -> Option<RouteConfig> {
    let entries = w.entries(path, node)?;
    let (mut name, mut path_prefix, mut host) = (Field::Absent, Field::Absent, Field::Absent);
    let (mut upstream, mut strip_prefix, mut auth) = (Field::Absent, Field::Absent, Field::Absent);
    let (mut audience, mut scope, mut csrf) = (Field::Absent, Field::Absent, Field::Absent);
    for (key, value) in entries {
        let key_path = join(path, key);
        let p = key_path.as_str();
        match key.as_str() {
            "name" => name = w.parsed(p, value, |s| fields::route_name(s).map(|()| s.to_owned())),
            "path_prefix" => path_prefix = w.parsed(p, value, fields::path_prefix),
            "host" => host = w.parsed(p, value, fields::route_host),
            "upstream" => upstream = w.parsed(p, value, fields::upstream),
            "strip_prefix" => strip_prefix = w.boolean(p, value),
            "auth" => {
                auth = w.choice(
                    p,
                    value,
                    &[
                        ("required", AuthMode::Required),
                        ("optional", AuthMode::Optional),
                        ("none", AuthMode::None),
                    ],
                )
            }
            "audience" => audience = w.non_empty(p, value),
            "scope" => scope = w.text(p, value).map(|s| Scope::parse(&s)),
            "csrf" => csrf = w.boolean(p, value),
            _ => w.unknown_key(p, ROUTE_KEYS),
        }
    }
    let name = w.required(&join(path, "name"), name);
    let path_prefix = w.required(&join(path, "path_prefix"), path_prefix);
    let upstream = w.required(&join(path, "upstream"), upstream);
    Some(RouteConfig {
        name: name?,
        path_prefix: path_prefix?,
        host: host.optional()?,
        upstream: upstream?,
        strip_prefix: strip_prefix.or(false)?,
        auth: auth.or(AuthMode::Required)?,
        audience: audience.optional()?,
        scope: scope.or(Scope::empty())?,
        csrf: csrf.or(true)?,
    })
}
