//! Step 2, normalize: the one canonical form of the path that routing, the gateway endpoints and
//! the upstream all use (`path::normalize_path`), so that no later reader can resolve it
//! differently.

use super::{Flow, RequestState};
use crate::http::{ErrorCode, Reply, RequestView};
use crate::path::normalize_path;
use std::ops::ControlFlow;

pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    match normalize_path(req.path) {
        Ok(path) => {
            state.path = path;
            ControlFlow::Continue(())
        }
        Err(_) => ControlFlow::Break(Reply::error(400, ErrorCode::BadPath)),
    }
}
