//! Step 4, route: the configured route for the request's host and normalised path
//! (`routing::Router`), resolved once and kept for every later step and phase.

use super::{Flow, RequestState};
use crate::http::{ErrorCode, Reply, RequestView};
use std::ops::ControlFlow;

pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    match state.loaded.router.route(req.host, &state.path) {
        Some(route) => {
            state.route = Some(route.clone());
            ControlFlow::Continue(())
        }
        None => ControlFlow::Break(Reply::error(404, ErrorCode::NoRoute)),
    }
}
