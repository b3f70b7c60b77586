//! Step 3, gateway: paths under `/auth` and `/.well-known/tokengate` are the gateway's own
//! endpoints (`docs/reference.md#gateway-endpoints`), answered by `oidc` (or, for the identity
//! assertion's keys, here) and never proxied. The normalised path decides, so
//! `/x/../auth/logout` is the logout too.

use super::RequestState;
use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Incoming, Reply};
use crate::path::{is_gateway_path, JWKS_PATH};

/// True when the request is for a gateway endpoint.
pub fn applies(state: &RequestState) -> bool {
    is_gateway_path(&state.path)
}

/// The endpoint's answer; it ends the pipeline.
pub async fn step(app: &App, req: &mut dyn Incoming, state: &RequestState) -> Reply {
    if state.path.starts_with("/.well-known/") {
        let method = req.view().method.clone();
        return match (state.path.as_str(), method.as_str()) {
            (JWKS_PATH, "GET" | "HEAD") => jwks(&state.loaded),
            (JWKS_PATH, _) => Reply::error(405, ErrorCode::MethodNotAllowed),
            _ => Reply::error(404, ErrorCode::NotFound),
        };
    }
    crate::oidc::handle(app, &state.loaded, req, &state.path).await
}

/// `GET /.well-known/tokengate/jwks.json`: the public keys of the identity assertion, cacheable
/// for five minutes (a rotated-in key is published before it signs: list it second first).
/// `404 not_found` when no assertion key is configured.
fn jwks(loaded: &Loaded) -> Reply {
    let Some(assertions) = &loaded.assertions else {
        return Reply::error(404, ErrorCode::NotFound);
    };
    let mut reply = Reply::json(200, assertions.jwks());
    reply.headers = vec![
        ("content-type", "application/jwk-set+json".into()),
        ("cache-control", "public, max-age=300".into()),
    ];
    reply
}
