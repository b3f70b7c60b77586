//! Step 5b, bearer: a machine client's own access token on a `bearer: accept` route
//! (`docs/reference.md#machine-clients`). Only for a request without a session that carries
//! `Authorization: Bearer <JWT>`; with a session the session wins and the client's header is
//! removed as on every route. The token is verified against the provider's keys once
//! (`crate::bearer` caches the verified claims until `exp`), then checked for this route on every
//! request: time window, audience, scope, `require:`. Accepted, it is forwarded unchanged and no
//! CSRF check applies (a browser does not attach it by itself, so another site cannot make one
//! send it).
//!
//! Answers: `401 invalid_token` and `403 insufficient_scope` with the RFC 6750 challenge; the
//! policy's `403 forbidden` or step-up. Each result is counted
//! (`tokengate_bearer_total{route,result}`, `tokengate_bearer_cache_total{result}`) and logged
//! with the route and a reason, never the token or a claim's value.

use super::{policy, Flow, RequestState, TokenState};
use crate::app::App;
use crate::bearer::{check, presented, AccessClaims, Refusal};
use crate::config::{AuthMode, BearerMode};
use crate::http::{ErrorCode, Reply, RequestView};
use crate::id_token::IdTokenError;
use crate::session::model::now;
use serde_json::{Map, Value};
use std::ops::ControlFlow;
use std::sync::Arc;

/// True when the route accepts client tokens and the request presents one (well-formed or not):
/// the session step leaves a request without a session to this step.
pub fn applies(state: &RequestState, req: &RequestView<'_>) -> bool {
    let accepts = state
        .route
        .as_ref()
        .is_some_and(|r| r.config.bearer == BearerMode::Accept && r.config.auth != AuthMode::None);
    accepts && presented(req.headers) != Ok(None)
}

pub async fn step(app: &App, req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    if state.session.view.is_some() || !applies(state, req) {
        return ControlFlow::Continue(());
    }
    let Some(route) = state.route.clone() else {
        return ControlFlow::Continue(());
    };
    let name = route.config.name.as_str();
    let count = |result: &str| app.metrics.bearer.with_label_values(&[name, result]).inc();
    let token = match presented(req.headers) {
        Ok(Some(token)) => token,
        Ok(None) => return ControlFlow::Continue(()),
        Err(reason) => {
            count("invalid");
            return ControlFlow::Break(invalid(name, reason));
        }
    };
    let claims = match verified(app, token).await {
        Ok(claims) => claims,
        Err(unverified) => {
            count("invalid");
            return ControlFlow::Break(unverified.reply(name));
        }
    };
    let loaded = &state.loaded;
    let audience = route
        .config
        .audience
        .as_deref()
        .or(loaded.config.provider.login.audience.as_deref())
        .unwrap_or_default();
    match check(&claims, audience, &route.config.scope, now()) {
        Ok(()) => {}
        Err(Refusal::Invalid(reason)) => {
            count("invalid");
            return ControlFlow::Break(invalid(name, reason));
        }
        Err(Refusal::Scope(missing)) => {
            count("insufficient_scope");
            tracing::info!(route = name, missing = %missing, "bearer: scope short");
            return ControlFlow::Break(insufficient_scope(&missing.to_string()));
        }
    }
    if let ControlFlow::Break(reply) = policy::check(app, &route.config, claims.as_ref()) {
        count("forbidden");
        return ControlFlow::Break(reply);
    }
    count("accepted");
    state.token = TokenState::Client {
        token: token.to_owned(),
        claims,
    };
    ControlFlow::Continue(())
}

/// Why a token has no verified claims.
enum Unverified {
    /// `401 invalid_token`, with a reason for the log.
    Invalid(String),
    /// The provider's metadata or keys could not be read: `503`, the token may be good.
    Unavailable(String),
}

impl Unverified {
    fn reply(self, route: &str) -> Reply {
        match self {
            Unverified::Invalid(reason) => invalid(route, &reason),
            Unverified::Unavailable(error) => {
                tracing::warn!(route, error, "bearer: the provider's keys are unavailable");
                Reply::error(503, ErrorCode::ProviderUnavailable).with_header("retry-after", "5")
            }
        }
    }
}

/// The token's verified claims: from the cache, or verified now (and cached).
async fn verified(app: &App, token: &str) -> Result<Arc<AccessClaims>, Unverified> {
    if let Some(hit) = app.bearer_cache.get(token) {
        app.metrics.bearer_cache.with_label_values(&["hit"]).inc();
        return Ok(hit);
    }
    app.metrics.bearer_cache.with_label_values(&["miss"]).inc();
    let meta = app
        .discovery()
        .get()
        .await
        .map_err(|e| Unverified::Unavailable(e.to_string()))?;
    let decoded: Map<String, Value> = app
        .jwks
        .verify_any_audience(token, &meta.jwks_uri, &meta.issuer, &["exp", "iss", "aud"])
        .await
        .map_err(|e| match e {
            IdTokenError::Jwks(e) => Unverified::Unavailable(e),
            // The library's message up to any detail, which could quote the payload.
            IdTokenError::Invalid(m) => {
                Unverified::Invalid(m.split(':').next().unwrap_or_default().to_owned())
            }
            IdTokenError::UnknownKey => Unverified::Invalid("unknown key".to_owned()),
            IdTokenError::Algorithm => Unverified::Invalid("algorithm not allowed".to_owned()),
            _ => Unverified::Invalid("malformed".to_owned()),
        })?;
    let claims = AccessClaims::new(decoded, token.len())
        .map_err(|claim| Unverified::Invalid(format!("claim {claim}")))?;
    let claims = Arc::new(claims);
    app.bearer_cache.insert(token, claims.clone());
    Ok(claims)
}

/// `401 invalid_token` with its challenge; logged with the reason (never the token).
fn invalid(route: &str, reason: &str) -> Reply {
    tracing::info!(route, reason, "bearer: invalid token");
    Reply::error(401, ErrorCode::InvalidToken)
        .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
}

/// `403 insufficient_scope` naming the missing scopes, with its challenge.
pub fn insufficient_scope(missing: &str) -> Reply {
    Reply::error_with(
        403,
        ErrorCode::InsufficientScope,
        [("missing", Value::from(missing))],
    )
    .with_header("www-authenticate", "Bearer error=\"insufficient_scope\"")
}
