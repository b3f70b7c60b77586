//! Step 9b, claims: when this request's refresh brought a new ID token, the session's claims are
//! read from it again (docs/reference.md#access-policy-and-identity), so a user added to a group
//! at the provider passes a `require:` after the next refresh, without logging in again, and a
//! removed group is noticed. The token is validated as at login (signature from the provider's
//! keys, `iss`, `aud`, `exp`), minus the nonce, and must name the session's `sub`; otherwise the
//! claims stay as they were (logged, never failing the request: the access token was obtained).
//! Only when the config uses claims. The new claims take effect from the next request (the
//! policy step ran before the refresh).
//!
//! With the cookie store this step updates the session after the exchange. With `store: redis`
//! the record may be rewritten only under the session's exchange lock (another replica may be
//! storing a rotated refresh token), so the token step hands the broker an [`IdTokenClaims`]
//! instead, and the claims are written with the rotated refresh token in one conditional write;
//! every replica reads them from the record on its next request.

use super::{RequestState, TokenState};
use crate::app::App;
use crate::app::Loaded;
use crate::id_token::IdClaims;
use crate::session::claims::Claims;
use crate::session::model::Session;
use crate::tokens::broker::ClaimsUpdater;
use crate::tokens::Decision;
use std::sync::Arc;

/// The session as it was before the token step, when the config uses claims and the cookie store
/// (an `Arc`, cheap; with Redis the broker reads the new ID token, see [`updater`]).
pub fn before(app: &App, state: &RequestState) -> Option<Arc<Session>> {
    if state.loaded.used_claims.is_empty() || app.broker.redis().is_some() {
        return None;
    }
    state.session.view.as_ref().map(|v| v.session.clone())
}

pub async fn step(app: &App, state: &mut RequestState, before: Option<Arc<Session>>) {
    let Some(before) = before else {
        return;
    };
    if !matches!(
        state.token,
        TokenState::Attached {
            decision: Decision::Refreshed,
            ..
        }
    ) {
        return;
    }
    let Some(view) = state.session.view.as_mut() else {
        return;
    };
    let Some(id_token) = view.session.id_token.clone() else {
        return;
    };
    if before.id_token.as_deref() == Some(id_token.as_str()) {
        return;
    }
    let Some(kept) = read(app, &state.loaded, &view.session, &id_token).await else {
        return;
    };
    if kept == view.session.claims {
        return;
    }
    app.broker.update(view, state.loaded.policy, None, |s| {
        // Only onto the session that holds this ID token (not one a later refresh replaced).
        if s.id_token.as_deref() == Some(id_token.as_str()) {
            s.claims = kept;
        }
    });
}

/// The broker's view of this step with `store: redis`: the claims to write with the rotated
/// refresh token. `None` (nothing to read) for the cookie store or a config without claims.
pub fn updater<'a>(app: &'a App, loaded: &'a Loaded) -> Option<IdTokenClaims<'a>> {
    if loaded.used_claims.is_empty() || app.broker.redis().is_none() {
        return None;
    }
    Some(IdTokenClaims { app, loaded })
}

/// Reads a refresh's new ID token for the broker, under the session's Redis lock.
pub struct IdTokenClaims<'a> {
    app: &'a App,
    loaded: &'a Loaded,
}

#[async_trait::async_trait]
impl ClaimsUpdater for IdTokenClaims<'_> {
    async fn claims(&self, session: &Session, id_token: &str) -> Option<Claims> {
        read(self.app, self.loaded, session, id_token).await
    }
}

/// The claims `session` keeps from its new `id_token`, when the token is valid and names the
/// session's user; `None` (logged without values) keeps the session's claims.
async fn read(app: &App, loaded: &Loaded, session: &Session, id_token: &str) -> Option<Claims> {
    let claims = match validate(app, &loaded.config.provider.client_id, id_token).await {
        Ok(c) if c.sub == session.user.sub => c,
        Ok(_) => {
            tracing::warn!("refresh: the new ID token names another subject; claims kept");
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e, "refresh: the new ID token was not valid; claims kept");
            return None;
        }
    };
    let fresh = Claims::keep(&claims.other, &loaded.used_claims);
    if loaded.config.provider.userinfo {
        return Some(fresh.refreshed_over(&session.claims));
    }
    Some(fresh)
}

async fn validate(app: &App, client_id: &str, id_token: &str) -> Result<IdClaims, String> {
    let meta = app.discovery().get().await.map_err(|e| e.to_string())?;
    let required = ["exp", "iat", "iss", "aud", "sub"];
    let claims: IdClaims = app
        .jwks
        .verify(id_token, &meta.jwks_uri, &meta.issuer, client_id, &required)
        .await
        .map_err(|e| e.to_string())?;
    match &claims.azp {
        Some(azp) if azp != client_id => Err("azp names another client".to_owned()),
        _ => Ok(claims),
    }
}
