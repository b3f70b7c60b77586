//! Step 3, gateway: paths under `/auth` are the gateway's own endpoints
//! (`docs/reference.md#gateway-endpoints`), answered by `oidc` and never proxied. The normalised
//! path decides, so `/x/../auth/logout` is the logout too.

use super::RequestState;
use crate::app::App;
use crate::http::{Incoming, Reply};
use crate::routing::is_gateway_path;

/// True when the request is for a gateway endpoint.
pub fn applies(state: &RequestState) -> bool {
    is_gateway_path(&state.path)
}

/// The endpoint's answer; it ends the pipeline.
pub async fn step(app: &App, req: &mut dyn Incoming, state: &RequestState) -> Reply {
    crate::oidc::handle(app, &state.loaded, req, &state.path).await
}
