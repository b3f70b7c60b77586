//! `GET|POST /auth/logout`: ends the session here and at the provider. The refresh token is
//! revoked (when the provider has a revocation endpoint), the session is forgotten (and its
//! Redis record deleted), the cookie cleared, and the browser sent to the provider's logout.
//!
//! Logging someone out is an attack too (a third-party page ends the victim's session and revokes
//! its refresh token): a `POST` follows the CSRF rule of proxied requests (`pipeline::csrf`), and a
//! `GET` that the browser marks as coming from another site (`Sec-Fetch-Site: cross-site` or
//! `same-site`) must carry `?sid=` equal to the session's [`logout_sid`], which only the session's
//! own pages can read from `/auth/session`. Refused: `403 {"error":"csrf"}`, session kept.

use super::current_session;
use crate::app::{App, Loaded};
use crate::discovery::ProviderMetadata;
use crate::http::csrf::{self, CsrfFacts};
use crate::http::{ErrorCode, Reply, RequestView};
use crate::session::model::Session;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub async fn answer(app: &App, loaded: &Loaded, req: &RequestView<'_>) -> Reply {
    let Ok((session, chunks)) = current_session(app, loaded, req).await else {
        return Reply::store_unavailable();
    };
    if let Some(s) = &session {
        if !may_log_out(req, &loaded.public_origin, &s.sid) {
            tracing::info!("logout refused: no same-origin proof");
            return Reply::error(403, ErrorCode::Csrf);
        }
    }
    let meta = app.discovery().cached();
    let mut location = "/".to_string();
    if let Some(s) = &session {
        if let Err(reply) = forget(app, s, "logout").await {
            return reply;
        }
        revoke(app, loaded, s, meta.as_deref(), "logout").await;
        if let Some(url) = provider_logout_url(loaded, s, meta.as_deref()) {
            location = url;
        }
        tracing::info!(sub = %s.user.sub, "logout: session ended");
    }
    let mut clear = chunks;
    if !clear.contains(&0) {
        clear.push(0);
    }
    Reply::redirect(&location).with_cookies(loaded.cookies.clear(&clear))
}

/// The `sid` that `/auth/session` shows and a cross-site logout link must carry: a one-way
/// derivation of the session's internal id. The internal id keys the Redis record and is sealed
/// in a redis-store cookie; it alone cannot open or mint a session (that needs `session.keys`),
/// but page script has no use for it, so the page gets a value that names the session for logout
/// and nothing else (128 bits, base64url).
pub fn logout_sid(sid: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"tokengate logout sid\0")
        .chain_update(sid.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// True when the request proves it may end the session whose internal id is `sid`.
pub fn may_log_out(req: &RequestView<'_>, public_origin: &str, sid: &str) -> bool {
    let header = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok());
    let facts = CsrfFacts {
        method: req.method,
        origin: header("origin"),
        sec_fetch_site: header("sec-fetch-site"),
        x_csrf: header("x-csrf"),
        // Logout is never a WebSocket upgrade; the upgrade rule is the proxy's.
        websocket: false,
    };
    if *req.method != http::Method::GET {
        return csrf::allowed(facts, public_origin);
    }
    let from_elsewhere = facts.sec_fetch_site.is_some_and(|site| {
        let site = site.trim();
        site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site")
    });
    !from_elsewhere || sid_param(req.query).is_some_and(|given| same_sid(&given, sid))
}

/// The `sid` query parameter, if there is one.
fn sid_param(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "sid")
        .map(|(_, v)| v.into_owned())
}

/// `given` equals the session's logout sid, compared in constant time.
fn same_sid(given: &str, sid: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(logout_sid(sid).as_bytes()))
}

/// Ends the session a login starts over (`/auth/login`, before the provider sees the new
/// authorization request), and revokes its refresh token: forgotten here and deleted from the
/// store, so no other copy of its cookie works again. Revoking *before* the new login matters:
/// providers that keep one grant per user and client (oidc-provider; Keycloak's user session)
/// revoke the whole grant with the refresh token, and a later revocation would take the new
/// session's grant with it. A failure is logged and counted; the new login goes on.
pub(super) async fn end_before_login(
    app: &App,
    loaded: &Loaded,
    s: &Session,
    meta: &ProviderMetadata,
) {
    if forget(app, s, "new_login").await.is_ok() {
        tracing::info!("login: the previous session of this browser ended");
    }
    revoke(app, loaded, s, Some(meta), "new_login").await;
}

/// Ends a session that a new login replaces at the callback, *without* revoking its refresh
/// token (see [`end_before_login`] for why that would revoke the new session's grant too): the
/// login was started from another site, so `/auth/login` left the session alone. A failure is
/// logged; the new login goes on.
pub(super) async fn replace(app: &App, s: &Session) {
    if forget(app, s, "new_login").await.is_ok() {
        tracing::info!("login: the previous session of this browser ended");
    }
}

/// Ends the session in this process and in the store, so no copy of its cookie works again.
/// `reason`: the label of `tokengate_sessions_cleared_total`.
async fn forget(app: &App, s: &Session, reason: &str) -> Result<(), Reply> {
    app.broker.end(&s.sid);
    if let Some(store) = app.broker.redis() {
        if let Err(e) = store.delete(s).await {
            tracing::warn!(error = %e, "logout: the session record could not be deleted");
            return Err(Reply::store_unavailable());
        }
    }
    app.metrics
        .sessions_cleared
        .with_label_values(&[reason])
        .inc();
    Ok(())
}

/// Revokes the refresh token (RFC 7009) when the provider can. A failure is logged and counted
/// (`tokengate_revocations_total`, by `reason`): the session is over here either way.
async fn revoke(
    app: &App,
    loaded: &Loaded,
    s: &Session,
    meta: Option<&ProviderMetadata>,
    reason: &str,
) {
    let (Some(rt), Some(endpoint)) = (
        &s.refresh_token,
        meta.and_then(|m| m.revocation_endpoint.clone()),
    ) else {
        return;
    };
    let form = vec![("token", rt.as_str()), ("token_type_hint", "refresh_token")];
    let result = match app
        .broker
        .client()
        .post_form(&loaded.config.provider, endpoint, form)
        .await
    {
        Ok(r) if r.status == 200 => {
            tracing::info!(reason, "refresh token revoked");
            "revoked"
        }
        Ok(r) => {
            tracing::warn!(reason, status = r.status, "revocation refused");
            "refused"
        }
        Err(e) => {
            tracing::warn!(reason, error = ?e, "revocation failed");
            "failed"
        }
    };
    app.metrics
        .revocations
        .with_label_values(&[reason, result])
        .inc();
}

/// The provider's end-session URL (RP-Initiated Logout), back to the public URL afterwards.
fn provider_logout_url(
    loaded: &Loaded,
    s: &Session,
    meta: Option<&ProviderMetadata>,
) -> Option<String> {
    let mut url = meta.and_then(|m| m.end_session_endpoint.clone())?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(idt) = &s.id_token {
            q.append_pair("id_token_hint", idt);
        }
        q.append_pair("client_id", &loaded.config.provider.client_id);
        let public_url = loaded.config.server.public_url.as_str();
        q.append_pair(
            "post_logout_redirect_uri",
            &format!("{}/", public_url.trim_end_matches('/')),
        );
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests;
