//! The identity headers a client may never send (`docs/reference.md#proxying-a-request`): a fixed
//! list of the names upstreams commonly trust, plus every route's `identity_headers`, as one set
//! per loaded config (`app::Loaded`). The client-headers step (`pipeline::client_headers`)
//! removes them from every request.

use std::collections::HashSet;

/// Identity headers never taken from a client, whatever the config.
const IDENTITY: [&str; 8] = [
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-preferred-username",
    "x-forwarded-access-token",
    "x-id-token",
    "remote-user",
    "x-remote-user",
];

/// Identity header families, by prefix (lowercase).
const IDENTITY_PREFIXES: [&str; 2] = ["x-auth-request-", "x-tokengate-"];

/// The identity headers of one loaded config: the fixed list, plus every configured name.
/// Computed once per config (`app::Loaded`).
#[derive(Clone, Debug, Default)]
pub struct IdentityHeaders {
    names: HashSet<String>,
}

impl IdentityHeaders {
    /// The fixed list plus `configured` names (each route's `identity_headers` keys).
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a str>) -> IdentityHeaders {
        let fixed = IDENTITY.iter().copied();
        let names = fixed
            .chain(configured)
            .map(str::to_ascii_lowercase)
            .collect();
        IdentityHeaders { names }
    }

    /// True when `name` (any case) is an identity header.
    pub fn contains(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.names.contains(&name) || IDENTITY_PREFIXES.iter().any(|p| name.starts_with(p))
    }
}
