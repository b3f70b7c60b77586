//! Callback step 3: the ID token is the provider's, for this client, for this login (its nonce),
//! checked with `id_token` against the provider's published keys.

use super::login_error;
use crate::app::{App, Loaded};
use crate::discovery::ProviderMetadata;
use crate::http::{ErrorCode, Reply};
use crate::id_token::{IdClaims, IdTokenError};
use crate::oidc::transaction::Transaction;
use crate::session::model::now;

pub async fn id_token(
    app: &App,
    loaded: &Loaded,
    meta: &ProviderMetadata,
    id_token: &str,
    tx: &Transaction,
) -> Result<IdClaims, Reply> {
    let client_id = &loaded.config.provider.client_id;
    app.jwks
        .validate(id_token, &meta.jwks_uri, &meta.issuer, client_id, &tx.nonce)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "login: ID token rejected");
            login_error(502, ErrorCode::InvalidIdToken, Some(detail(&e)))
        })
}

/// The `detail` of an `invalid_id_token` answer: which check failed, never the token.
fn detail(e: &IdTokenError) -> &'static str {
    match e {
        IdTokenError::Jwks(_) => "jwks_unavailable",
        IdTokenError::Nonce => "nonce",
        IdTokenError::Azp => "azp",
        IdTokenError::UnknownKey => "unknown_key",
        IdTokenError::Algorithm => "algorithm",
        IdTokenError::Malformed | IdTokenError::Invalid(_) => "invalid",
    }
}

/// A step-up login (`/auth/login?acr_values=&max_age=`) must have reached one of the `acr`
/// values asked for, with an `auth_time` within `max_age` (a minute of clock skew forgiven):
/// otherwise `403 step_up_failed` naming the claim, and no session.
pub fn step_up(claims: &IdClaims, tx: &Transaction) -> Result<(), Reply> {
    let Some(step_up) = &tx.step_up else {
        return Ok(());
    };
    let acr = claims.other.get("acr").and_then(|v| v.as_str());
    let auth_time = claims.other.get("auth_time").and_then(|v| v.as_u64());
    step_up
        .satisfied_by(acr, auth_time, now(), STEP_UP_SKEW_SECS)
        .map_err(|claim| {
            tracing::warn!(
                claim,
                "login: the provider did not perform the step-up asked for"
            );
            login_error(403, ErrorCode::StepUpFailed, Some(claim))
        })
}

/// Clock skew forgiven on `auth_time` against `max_age`.
const STEP_UP_SKEW_SECS: u64 = 60;
