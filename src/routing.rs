//! Which configured route serves a request, and what path the upstream sees.
//!
//! Called by the pipeline's route step (`pipeline::route`) with a path that has already been through
//! [`crate::path::normalize_path`], so a route decision can never be undone by dot-segments the
//! upstream would resolve. Matching is segment-aware (`/api/orders` does not own `/api/ordersx`),
//! the longest prefix wins, and among routes with the same prefix one bound to the request's
//! `Host` beats a host-less one. The [`Router`] is built once per config (re)load and shared as
//! `Arc<Router>`; a lookup allocates nothing.

use crate::config::RouteConfig;
use std::collections::HashMap;
use std::sync::Arc;

/// A configured route, as the pipeline holds it for one request (shared, never copied).
#[derive(Clone, Debug)]
pub struct Route {
    pub config: RouteConfig,
    /// Position in `routes:`, stable for one config generation.
    pub index: usize,
    /// The upstream's origin, the `aud` of the identity assertions sent to it (computed once).
    audience: String,
}

impl Route {
    pub fn new(config: RouteConfig, index: usize) -> Route {
        let audience = config.upstream.origin();
        Route {
            config,
            index,
            audience,
        }
    }

    /// The upstream origin (`http(s)://host[:port]`) an identity assertion is made for.
    pub fn audience(&self) -> &str {
        &self.audience
    }
}

/// The routes sharing one `path_prefix`.
#[derive(Debug, Default)]
struct PrefixGroup {
    /// `(canonical host, route index)`, in config order: the first of duplicates wins.
    by_host: Vec<(String, usize)>,
    any_host: Option<usize>,
}

/// Routes indexed by prefix. A lookup tries the path's own segment boundaries from the longest
/// down, one hash probe each, so its cost grows with the depth of the path, not the number of
/// routes.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Arc<Route>>,
    by_prefix: HashMap<String, PrefixGroup>,
}

impl Router {
    /// Duplicate `(path_prefix, host)` pairs are a config error caught by validation; should one
    /// slip through, the earlier route wins.
    pub fn new(routes: Vec<RouteConfig>) -> Router {
        let mut by_prefix: HashMap<String, PrefixGroup> = HashMap::new();
        for (index, config) in routes.iter().enumerate() {
            let group = by_prefix
                .entry(prefix_key(&config.path_prefix))
                .or_default();
            match &config.host {
                Some(host) => {
                    let host = canonical_host(host).to_ascii_lowercase();
                    if !group.by_host.iter().any(|(h, _)| *h == host) {
                        group.by_host.push((host, index));
                    }
                }
                None => {
                    group.any_host.get_or_insert(index);
                }
            }
        }
        let routes = routes
            .into_iter()
            .enumerate()
            .map(|(index, config)| Arc::new(Route::new(config, index)))
            .collect();
        Router { routes, by_prefix }
    }

    /// The route for a request. `host` is the request's `Host` (or `:authority`), port and case
    /// ignored; `path` must be normalised. `None` means `404 no_route`.
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<&Arc<Route>> {
        let host = host.map(canonical_host);
        candidate_prefixes(path)
            .find_map(|prefix| self.pick(self.by_prefix.get(prefix)?, host))
            .and_then(|index| self.routes.get(index))
    }

    /// Every route in config order (for pre-registering metrics, logging the table).
    pub fn routes(&self) -> &[Arc<Route>] {
        &self.routes
    }

    fn pick(&self, group: &PrefixGroup, host: Option<&str>) -> Option<usize> {
        host.and_then(|host| {
            group
                .by_host
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(host))
                .map(|&(_, index)| index)
        })
        .or(group.any_host)
    }
}

/// The prefixes that match `path` segment-wise, longest first: the path itself, the path cut
/// before each `/`, and finally `/`. Prefixes are stored without a trailing slash, so a path
/// ending in `/` is found through the cut before that slash.
fn candidate_prefixes(path: &str) -> impl Iterator<Item = &str> {
    let whole = std::iter::once(path).filter(|p| !p.ends_with('/'));
    let cuts = path
        .rmatch_indices('/')
        .filter(|&(i, _)| i > 0)
        .filter_map(move |(i, _)| path.get(..i));
    whole.chain(cuts).chain(std::iter::once("/"))
}

/// The stored form of a prefix: no trailing `/` except for the root itself.
fn prefix_key(prefix: &str) -> String {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The host part of a `Host` value, for comparison: without `:port`, without the brackets of an
/// IPv6 literal, without the trailing dot of an absolute name. All of these would otherwise let a
/// request slip past a host route to a host-less one with the same prefix.
fn canonical_host(host: &str) -> &str {
    let host = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        match host.split_once(':') {
            // One colon: `name:port`. More than one: an unbracketed IPv6 address, kept whole.
            Some((name, port)) if !port.contains(':') => name,
            _ => host,
        }
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// The path sent upstream: with `strip_prefix`, the route's prefix is removed (`/api/orders/x` →
/// `/x`, `/api/orders` → `/`); otherwise the normalised path as is. The query is the caller's.
pub fn upstream_path(route: &RouteConfig, normalized_path: &str) -> String {
    if !route.strip_prefix {
        return normalized_path.to_owned();
    }
    let prefix = route.path_prefix.trim_end_matches('/');
    match normalized_path.strip_prefix(prefix) {
        Some("") => "/".to_owned(),
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        // Not under the prefix: the caller passed a path this route does not match.
        _ => normalized_path.to_owned(),
    }
}

#[cfg(test)]
mod tests;
