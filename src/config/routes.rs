//! The `routes` list of `routes.yaml` (docs/reference.md#routes): the table of a route's keys,
//! the checks between keys of one route, and the checks that span entries (unique names, unique
//! `(host, path_prefix)` pairs), reported on the later entry so the message can point back at
//! the first.

use super::model::{AuthMode, BearerMode, GrantType, RouteConfig};
use super::problems::ConfigErrors;
use super::read;
use super::section::section;
use super::tls;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use super::{access, fields};
use crate::policy::Policy;
use crate::scope::Scope;
use std::collections::HashMap;

const GRANT: &[(&str, GrantType)] = &[
    ("refresh_token", GrantType::RefreshToken),
    ("token_exchange", GrantType::TokenExchange),
    ("client_credentials", GrantType::ClientCredentials),
];

const AUTH: &[(&str, AuthMode)] = &[
    ("required", AuthMode::Required),
    ("optional", AuthMode::Optional),
    ("none", AuthMode::None),
];

const BEARER: &[(&str, BearerMode)] = &[
    ("reject", BearerMode::Reject),
    ("accept", BearerMode::Accept),
];

/// One entry of `routes:`. A new key is a field of `RouteConfig` and a row here.
fn route(w: &mut Walker, path: &str, node: &Node) -> Field<RouteConfig> {
    let route = section!(w, path, node, RouteConfig {
        name: required => read::parsed(fields::route_name),
        path_prefix: required => read::parsed(fields::path_prefix),
        host: optional => read::parsed(fields::route_host),
        upstream: required => read::parsed(fields::upstream),
        strip_prefix: default(false) => read::boolean,
        auth: default(AuthMode::Required) => read::choice(AUTH),
        audience: optional => read::non_empty,
        scope: default(Scope::empty()) => read::parsed(fields::scope),
        grant: default(GrantType::RefreshToken) => read::choice(GRANT),
        csrf: default(true) => read::boolean,
        bearer: default(BearerMode::Reject) => read::choice(BEARER),
        require: default(Policy::default()) => access::require,
        identity_headers: default(Vec::new()) => access::identity_headers,
        identity_assertion: default(false) => read::boolean,
        upstream_headers: default(Vec::new()) => access::upstream_headers,
        upstream_ca: optional => tls::ca_bundle,
        upstream_client_cert: optional => tls::client_cert,
        upstream_sni: optional => read::parsed(tls::server_name),
        upstream_h2: default(false) => read::boolean,
    });
    if let Field::Value(r) = &route {
        check(w, path, r);
        access::check(w, path, r);
    }
    route
}

impl RouteConfig {
    /// A route with `name`, `path_prefix` and `upstream`, every other key at its default from the
    /// table above, checked as in a file. How code without a file (unit tests, benches) builds a
    /// route: with `RouteConfig { host: .., ..RouteConfig::new(..)? }`, a new key needs no edit
    /// there.
    pub fn new(name: &str, path_prefix: &str, upstream: &str) -> Result<Self, ConfigErrors> {
        let text = |s: &str| Node::Str(s.to_owned());
        let node = Node::Map(vec![
            ("name".to_owned(), text(name)),
            ("path_prefix".to_owned(), text(path_prefix)),
            ("upstream".to_owned(), text(upstream)),
        ]);
        let mut w = Walker::new(&|_| None);
        match route(&mut w, "route", &node) {
            Field::Value(route) if w.errors.is_empty() => Ok(route),
            _ => Err(ConfigErrors(w.errors)),
        }
    }
}

/// Keys that contradict the route's `auth`, its `grant` or its upstream's scheme: silently
/// ignored, they would hide a mistake.
fn check(w: &mut Walker, path: &str, route: &RouteConfig) {
    check_upstream_tls(w, path, route);
    if route.auth == AuthMode::None && route.grant == GrantType::TokenExchange {
        w.error(
            &join(path, "grant"),
            "token_exchange needs a session's access token: set auth: required or optional, \
             or use grant: client_credentials for the gateway's own token",
        );
    }
    if route.auth == AuthMode::None && route.bearer == BearerMode::Accept {
        w.error(
            &join(path, "bearer"),
            "accept needs auth: required or optional (with auth: none no token is \
             checked): remove it, or set auth: required or optional",
        );
    }
    if route.auth != AuthMode::None && !route.csrf {
        w.error(
            &join(path, "csrf"),
            "false is allowed only with auth: none (webhooks that carry no session): on a \
             route that reads the session it would let other sites send requests with the \
             user's token; remove csrf: false, or set auth: none",
        );
    }
    // A client-credentials token is the gateway's own: it needs no session, so its audience
    // and scope mean something with every `auth`.
    if route.auth != AuthMode::None || route.grant == GrantType::ClientCredentials {
        return;
    }
    let set = [
        ("audience", route.audience.is_some()),
        ("scope", !route.scope.is_empty()),
    ];
    for (key, _) in set.iter().filter(|(_, set)| *set) {
        w.error(
            &join(path, key),
            "has no effect with auth: none (no token is attached): remove it, or set \
             auth: required or optional, or grant: client_credentials",
        );
    }
}

/// The TLS keys need an `https://` upstream: over plain HTTP there is no certificate to
/// verify or present, and a key that silently does nothing would look like protection.
fn check_upstream_tls(w: &mut Walker, path: &str, route: &RouteConfig) {
    if route.upstream.tls {
        return;
    }
    let set = [
        ("upstream_ca", route.upstream_ca.is_some()),
        ("upstream_client_cert", route.upstream_client_cert.is_some()),
        ("upstream_sni", route.upstream_sni.is_some()),
    ];
    for (key, _) in set.iter().filter(|(_, set)| *set) {
        w.error(
            &join(path, key),
            "needs an https:// upstream (over http:// there is no certificate to verify or \
             present): make the upstream https://, or remove the key",
        );
    }
}

/// Reads the whole list; `Bad` when it is missing, empty or has a bad entry.
pub(crate) fn routes(w: &mut Walker, path: &str, node: &Node) -> Field<Vec<RouteConfig>> {
    let items = match node {
        Node::Seq(items) => items,
        Node::Null => {
            w.error(path, "required (at least one route)");
            return Field::Bad;
        }
        other => {
            w.error(
                path,
                format!("expected a list of routes, got {}", other.kind()),
            );
            return Field::Bad;
        }
    };
    if items.is_empty() {
        w.error(path, "at least one route is required");
        return Field::Bad;
    }
    let mut seen = Seen::default();
    let mut routes = Vec::with_capacity(items.len());
    let mut complete = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        match route(w, &item_path, item) {
            Field::Value(route) => {
                complete &= seen.first(w, &item_path, i, &route);
                routes.push(route);
            }
            Field::Absent | Field::Bad => complete = false,
        }
    }
    if complete {
        Field::Value(routes)
    } else {
        Field::Bad
    }
}

/// The routes read so far, by name and by place, to refuse a second one.
#[derive(Default)]
struct Seen {
    names: HashMap<String, usize>,
    places: HashMap<(Option<String>, String), usize>,
}

impl Seen {
    /// Records route `i`; false (and an error) when its name or its place is taken.
    fn first(&mut self, w: &mut Walker, path: &str, i: usize, route: &RouteConfig) -> bool {
        let mut first = true;
        if let Some(earlier) = self.names.get(&route.name) {
            w.error(
                &join(path, "name"),
                format!(
                    "duplicate route name {:?} (already used by routes[{earlier}])",
                    route.name
                ),
            );
            first = false;
        } else {
            self.names.insert(route.name.clone(), i);
        }
        let place = (route.host.clone(), route.path_prefix.clone());
        if let Some(earlier) = self.places.get(&place) {
            w.error(
                &join(path, "path_prefix"),
                format!(
                    "routes[{earlier}] already has the same host and path_prefix {:?}",
                    route.path_prefix
                ),
            );
            first = false;
        } else {
            self.places.insert(place, i);
        }
        first
    }
}
