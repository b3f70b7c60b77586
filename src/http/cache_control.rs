//! `Cache-Control` of a response that carries the session's `Set-Cookie`. The sealed session
//! (refresh token inside) must never be stored by a shared cache in front of the gateway and
//! handed to another user, so such a response is `private, no-store` whatever the upstream said;
//! directives that only restrict caching further are kept, those that allow it are dropped.

/// Directives that allow or lengthen caching: meaningless or harmful next to `no-store`.
const PERMISSIVE: [&str; 8] = [
    "public",
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
    "immutable",
    "private",
    "no-store",
];

/// The `Cache-Control` value for a response carrying the session cookie, given what the
/// response already had (`existing`: every `Cache-Control` field joined by `, `, or `None`):
/// `private, no-store`, followed by any further restrictive directive of `existing`
/// (`no-cache`, `must-revalidate`, `no-transform`, ...).
pub fn private_no_store(existing: Option<&str>) -> String {
    let mut value = String::from("private, no-store");
    for directive in existing.unwrap_or("").split(',').map(str::trim) {
        let name = directive.split('=').next().unwrap_or("").trim();
        if name.is_empty() || PERMISSIVE.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            continue;
        }
        value.push_str(", ");
        value.push_str(directive);
    }
    value
}

#[cfg(test)]
mod tests;
