//! Step 7, policy: who may use the route (`docs/reference.md#access-policy-and-identity`). The
//! route's `require:` (compiled at load) is checked against the session's claims by the pure
//! `policy::evaluate`, before any token is fetched for a request that may not have one. The
//! loaded config decides, so a reload that changes `require:` applies to existing sessions at
//! once.
//!
//! Answers: `403 forbidden` with the failing claim's *name* as `detail`; `401
//! insufficient_user_authentication` (RFC 9470 step-up) when only `acr` fails; a `403` that asks
//! for a new login when the session did not keep the claim (the config started using it after the
//! login). An optional route with a `require:` and no session is the usual `401`. Each refusal is
//! counted (`tokengate_policy_denied_total{route}`) and logged with the route and the claim name,
//! never a claim's value.

use super::{Flow, RequestState};
use crate::app::App;
use crate::config::RouteConfig;
use crate::http::{ErrorCode, Reply};
use crate::policy::{evaluate, ClaimSource, Verdict};
use serde_json::Value;
use std::ops::ControlFlow;

pub fn step(app: &App, state: &mut RequestState) -> Flow {
    let Some(route) = state.route.as_ref() else {
        return ControlFlow::Continue(());
    };
    // A client's own token was checked against `require:` by the `bearer` step.
    if route.config.require.is_empty() || state.client_claims().is_some() {
        return ControlFlow::Continue(());
    }
    let Some(view) = state.session.view.as_ref() else {
        return ControlFlow::Break(Reply::unauthenticated());
    };
    check(app, &route.config, view.session.as_ref())
}

/// The route's `require:` on `claims` (a session's, or a client token's).
pub fn check(app: &App, route: &RouteConfig, claims: &impl ClaimSource) -> Flow {
    let reply = match evaluate(&route.require, claims) {
        Verdict::Allow => return ControlFlow::Continue(()),
        Verdict::Deny { claim } => {
            tracing::info!(route = %route.name, claim, "policy: access denied");
            forbidden(claim)
        }
        Verdict::Unknown { claim } => {
            tracing::info!(
                route = %route.name,
                claim,
                "policy: the session did not keep this claim; a new login is needed"
            );
            Reply::error_with(
                403,
                ErrorCode::Forbidden,
                [
                    ("detail", Value::from(claim)),
                    ("login_required", Value::Bool(true)),
                ],
            )
        }
        Verdict::StepUp { acr_values } => {
            tracing::info!(route = %route.name, claim = "acr", "policy: step-up needed");
            step_up(acr_values)
        }
    };
    app.metrics
        .policy_denied
        .with_label_values(&[&route.name])
        .inc();
    ControlFlow::Break(reply)
}

/// `403 {"error":"forbidden","detail":"<claim>"}`.
pub fn forbidden(claim: &str) -> Reply {
    Reply::error_detail(403, ErrorCode::Forbidden, claim)
}

/// The RFC 9470 challenge. `acr_values` were checked at load (visible ASCII without `"` or
/// `\`), so they go into the quoted parameter as they are.
pub fn step_up(acr_values: &str) -> Reply {
    Reply::error_with(
        401,
        ErrorCode::InsufficientUserAuthentication,
        [("acr_values", Value::from(acr_values))],
    )
    .with_header(
        "www-authenticate",
        format!("Bearer error=\"insufficient_user_authentication\", acr_values=\"{acr_values}\""),
    )
}

#[cfg(test)]
mod tests;
