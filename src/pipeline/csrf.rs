//! Step 6, csrf: the cross-site request forgery rule (`docs/reference.md#proxying-a-request`),
//! for requests that carry a session on a route with `csrf: true`. A session cookie is sent by
//! the browser on cross-site requests too (`SameSite=Lax` still allows top-level POST navigations
//! in some browsers and all same-site subdomains), so an unsafe request with a session must prove
//! it comes from the gateway's own origin; so must a WebSocket upgrade, whatever its method.

use super::{Flow, RequestState};
pub use crate::http::csrf::{allowed, CsrfFacts};
use crate::http::{ErrorCode, Reply, RequestView};
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

#[cfg(test)]
mod tests;
