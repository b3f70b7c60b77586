//! The request path as a pipeline of named steps, in the order a request meets them. Each step
//! is a small file with one job; it reads the request through a [`RequestView`] (never a
//! listener's session type) and the [`RequestState`] earlier steps filled in, and returns
//! [`Flow::Continue`] or an answer ([`Flow::Break`] with a [`Reply`]):
//!
//! ```text
//!  1 screen      screen.rs     limits on the head: framing, Host, sizes  → 400 / 431
//! 1b trace       trace.rs      the client's trace continued, or a new one (never refuses)
//!  2 normalize   normalize.rs  one canonical path                        → 400 bad_path
//!  3 gateway     gateway.rs    /auth/* answered by oidc/                 → its own answers
//!  4 route       route.rs      the route for host and path               → 404 no_route
//! 4b client_headers client_headers.rs  identity and forwarding headers,
//!                                 Connection nominating them              → 400 bad_request
//!  5 session     session.rs    the session from the cookie (or Redis)    → 401 / 503
//! 5b bearer      bearer.rs     a machine client's own Bearer (no session) → 401 / 403
//!  6 csrf        csrf.rs       unsafe methods prove their origin         → 403 csrf
//!  7 policy      policy.rs     the route's require: on the session's claims → 403 / 401 step-up
//!  8 idle        idle.rs       extend the session's idle timeout
//!  9 token       token.rs      the route's access token                  → outcome table
//!  9b claims     claims.rs     a refresh's new ID token updates the session's claims
//! 10 upstream    upstream.rs   what the upstream request carries
//! 11 identity    identity.rs   identity headers, the assertion, static upstream headers
//! ```
//!
//! Adding a step is a new file and one line in [`run`]. The pingora adapter (`proxy`) runs the
//! pipeline from its `request_filter` and applies the result in its later phases; a listener that
//! answers instead of proxying (forward-auth) can run the same steps and reply with the token.
//! After the pipeline, [`respond`] gives the `Set-Cookie` values of the answer, whoever writes
//! it.

pub mod bearer;
pub mod claims;
pub mod client_headers;
pub mod csrf;
pub mod gateway;
pub mod identity;
pub mod idle;
pub mod normalize;
pub mod policy;
pub mod respond;
pub mod route;
pub mod screen;
pub mod session;
pub mod state;
pub mod token;
pub mod trace;
pub mod upstream;

pub use state::{RequestState, SessionState, TokenState};

use crate::app::App;
use crate::http::{Incoming, Reply};
use std::ops::ControlFlow;

/// What a step decides: go on to the next step, or answer now.
pub type Flow = ControlFlow<Reply>;

/// Runs the steps in order. `Break(reply)`: answer with it (then [`respond::finish`] it);
/// `Continue`: forward the request as `state` describes.
pub async fn run(app: &App, req: &mut dyn Incoming, state: &mut RequestState) -> Flow {
    let view = req.view();
    screen::step(&app.metrics, &view, state)?;
    let trace = trace::step(&view, state);
    normalize::step(&view, state)?;
    if gateway::applies(state) {
        let answer = crate::trace::scope(trace, gateway::step(app, req, state));
        return ControlFlow::Break(answer.await);
    }
    route::step(&view, state)?;
    client_headers::step(&app.metrics, &view, state)?;
    session::step(app, &view, state).await?;
    bearer::step(app, &view, state).await?;
    csrf::step(&view, state)?;
    policy::step(app, state)?;
    idle::step(app, state).await?;
    let before = claims::before(app, state);
    crate::trace::scope(trace, token::step(app, state)).await?;
    claims::step(app, state, before).await;
    upstream::step(&view, state)?;
    identity::step(app, state)
}

#[cfg(test)]
mod tests;
