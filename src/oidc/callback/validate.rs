//! Callback step 3: the ID token is the provider's, for this client, for this login (its nonce),
//! checked with `oidc::id_token` against the provider's published keys.

use super::login_error;
use crate::app::{App, Loaded};
use crate::discovery::ProviderMetadata;
use crate::http::{ErrorCode, Reply};
use crate::oidc::id_token::{IdClaims, IdTokenError};
use crate::oidc::transaction::Transaction;

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
