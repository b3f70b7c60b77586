//! The cross-site request forgery rule as a pure function of a request's facts
//! (`docs/reference.md#proxying-a-request`): the proxy's CSRF step (`pipeline::csrf`) and
//! `/auth/logout` both apply it.

use http::Method;

/// The request facts the rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct CsrfFacts<'a> {
    pub method: &'a Method,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub x_csrf: Option<&'a str>,
    /// A WebSocket upgrade (`Upgrade: websocket`).
    pub websocket: bool,
}

/// True when the request may proceed. Only called for requests that carry a session on a route
/// with `csrf: true`.
pub fn allowed(facts: CsrfFacts<'_>, public_origin: &str) -> bool {
    // An upgrade is a GET, but the socket it opens carries the Bearer token both ways and a
    // sibling subdomain's page sends the cookie too: browsers always send `Origin` on it, and
    // cannot add `X-CSRF`, so the origin alone decides.
    if facts.websocket {
        return facts
            .origin
            .is_some_and(|o| o.eq_ignore_ascii_case(public_origin));
    }
    if matches!(*facts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if facts.x_csrf.map(str::trim) == Some("1") {
        return true;
    }
    match facts.origin {
        Some(origin) => origin.eq_ignore_ascii_case(public_origin),
        None => facts
            .sec_fetch_site
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("same-origin")),
    }
}
