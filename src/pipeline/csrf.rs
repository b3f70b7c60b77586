//! Step 6, csrf: the cross-site request forgery rule (`docs/reference.md#proxying-a-request`),
//! for requests that carry a session on a route with `csrf: true`. A session cookie is sent by
//! the browser on cross-site requests too (`SameSite=Lax` still allows top-level POST navigations
//! in some browsers and all same-site subdomains), so an unsafe request with a session must prove
//! it comes from the gateway's own origin; so must a WebSocket upgrade, whatever its method.

use super::{Flow, RequestState};
use crate::http::{ErrorCode, Reply, RequestView};
use http::Method;
use std::ops::ControlFlow;

pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    let Some(route) = state.route.as_ref() else {
        return ControlFlow::Continue(());
    };
    if !route.config.csrf || state.session.view.is_none() {
        return ControlFlow::Continue(());
    }
    let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok());
    let facts = CsrfFacts {
        method: req.method,
        origin: header("origin"),
        sec_fetch_site: header("sec-fetch-site"),
        x_csrf: header("x-csrf"),
        websocket: header("upgrade").is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")),
    };
    if allowed(facts, &state.loaded.public_origin) {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(Reply::error(403, ErrorCode::Csrf))
    }
}

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

#[cfg(test)]
mod tests;
