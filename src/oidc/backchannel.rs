//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed `logout_token` naming a
//! provider session (`sid`) or a user (`sub`), and every gateway session of it ends — on every
//! replica, because they live in the shared Redis. A cookie session cannot be reached from the
//! provider, so with the cookie store the endpoint says so (`501`).

use crate::app::{App, Loaded};
use crate::http::request::BodyError;
use crate::http::Incoming;
use crate::http::{ErrorCode, Reply};
use crate::session::model::now;
use serde::Deserialize;

/// The back-channel logout event's key in `events` (Back-Channel Logout 1.0 §2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token older than this is refused (replay of an old token).
const MAX_AGE_SECS: u64 = 300;
/// Largest request body read.
const MAX_BODY: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
pub struct LogoutClaims {
    pub iat: u64,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub events: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub nonce: Option<serde_json::Value>,
}

/// The checks of Back-Channel Logout 1.0 §2.6 beyond signature, `iss` and `aud`: the event, `sid` or `sub`, no `nonce`,
/// a recent `iat`.
pub fn check_claims(c: &LogoutClaims, now: u64) -> Result<(), &'static str> {
    if !c.events.get(LOGOUT_EVENT).is_some_and(|v| v.is_object()) {
        return Err("missing back-channel logout event");
    }
    if c.sid.is_none() && c.sub.is_none() {
        return Err("neither sid nor sub");
    }
    if c.nonce.is_some() {
        return Err("a logout token must not contain a nonce");
    }
    if c.iat > now + 60 || now.saturating_sub(c.iat) > MAX_AGE_SECS {
        return Err("iat out of range");
    }
    Ok(())
}

fn bad(reason: &str) -> Reply {
    tracing::warn!(reason, "back-channel logout refused");
    Reply::error(400, ErrorCode::InvalidLogoutToken)
}

/// `POST /auth/backchannel-logout`.
pub async fn handle(app: &App, loaded: &Loaded, req: &mut dyn Incoming) -> Reply {
    let Some(store) = app.broker.redis() else {
        return Reply::error_detail(
            501,
            ErrorCode::NotImplemented,
            "back-channel logout needs session.store: redis; a cookie session cannot be reached from the provider",
        );
    };
    let body = match req.read_body(MAX_BODY).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return bad("body too large"),
        Err(BodyError::Unreadable) => return bad("body unreadable"),
    };
    let Some(token) = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
    else {
        return bad("no logout_token");
    };
    let Ok(meta) = app.discovery().get().await else {
        return Reply::error(503, ErrorCode::ProviderUnavailable).with_header("retry-after", "5");
    };
    let claims: LogoutClaims = match app
        .jwks
        .verify(
            &token,
            &meta.jwks_uri,
            &meta.issuer,
            &loaded.config.provider.client_id,
            &["iat", "iss", "aud"],
        )
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "back-channel logout token rejected");
            return bad("signature or claims");
        }
    };
    if let Err(reason) = check_claims(&claims, now()) {
        return bad(reason);
    }
    let ids = match store
        .find(claims.sid.as_deref(), claims.sub.as_deref())
        .await
    {
        Ok(ids) => ids,
        Err(_) => return Reply::store_unavailable(),
    };
    if store.delete_ids(&ids).await.is_err() {
        return Reply::store_unavailable();
    }
    for id in &ids {
        app.broker.end(id);
    }
    app.metrics
        .sessions_cleared
        .with_label_values(&["backchannel_logout"])
        .inc_by(ids.len() as u64);
    tracing::info!(sessions = ids.len(), "back-channel logout");
    Reply::empty(200)
}

#[cfg(test)]
mod tests;
