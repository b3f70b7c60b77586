//! Step 7, policy: who may use the route. Empty for now: every session that passed the earlier
//! steps may use every route it matched. The access policy of
//! `docs/reference.md#access-policy-and-identity` goes here: a route's required claims checked
//! against the session's user, as a pure function with unit tests, answering `403 forbidden`
//! (or `401` for a step-up) before any token is fetched for a request that may not have one.

use super::{Flow, RequestState};
use crate::http::RequestView;
use std::ops::ControlFlow;

pub fn step(_req: &RequestView<'_>, _state: &mut RequestState) -> Flow {
    ControlFlow::Continue(())
}
