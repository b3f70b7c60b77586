//! `GET|POST /auth/logout`: ends the session here and at the provider. The refresh token is
//! revoked (when the provider has a revocation endpoint), the session is forgotten (and its
//! Redis record deleted), the cookie cleared, and the browser sent to the provider's logout.

use super::current_session;
use crate::app::{App, Loaded};
use crate::discovery::ProviderMetadata;
use crate::http::{Reply, RequestView};
use crate::session::model::Session;

pub async fn answer(app: &App, loaded: &Loaded, req: &RequestView<'_>) -> Reply {
    let Ok((session, chunks)) = current_session(app, loaded, req).await else {
        return Reply::store_unavailable();
    };
    let meta = app.discovery().cached();
    let mut location = "/".to_string();
    if let Some(s) = &session {
        if let Err(reply) = forget(app, s).await {
            return reply;
        }
        revoke(app, loaded, s, meta.as_deref()).await;
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

/// Ends the session in this process and in the store, so no copy of its cookie works again.
async fn forget(app: &App, s: &Session) -> Result<(), Reply> {
    app.broker.end(&s.sid);
    if let Some(store) = app.broker.redis() {
        if let Err(e) = store.delete(s).await {
            tracing::warn!(error = %e, "logout: the session record could not be deleted");
            return Err(Reply::store_unavailable());
        }
    }
    app.metrics
        .sessions_cleared
        .with_label_values(&["logout"])
        .inc();
    Ok(())
}

/// Revokes the refresh token (RFC 7009) when the provider can. A failure is logged: the session
/// is over here either way.
async fn revoke(app: &App, loaded: &Loaded, s: &Session, meta: Option<&ProviderMetadata>) {
    let (Some(rt), Some(endpoint)) = (
        &s.refresh_token,
        meta.and_then(|m| m.revocation_endpoint.clone()),
    ) else {
        return;
    };
    let form = vec![("token", rt.as_str()), ("token_type_hint", "refresh_token")];
    match app
        .broker
        .client()
        .post_form(&loaded.config.provider, endpoint, form)
        .await
    {
        Ok(r) if r.status == 200 => tracing::info!("logout: refresh token revoked"),
        Ok(r) => tracing::warn!(status = r.status, "logout: revocation refused"),
        Err(e) => tracing::warn!(error = ?e, "logout: revocation failed"),
    }
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
