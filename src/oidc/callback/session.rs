//! Callback step 4: the new session, from the validated claims (only those the config uses are
//! kept, `session::claims`) and the tokens of the exchange,
//! stored (sealed into the cookie, or as a Redis record the cookie names) and written as
//! `Set-Cookie`, replacing any session cookie the browser had.

use super::exchange::CodeTokens;
use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Reply, RequestView};
use crate::id_token::IdClaims;
use crate::session::claims::Claims;
use crate::session::cookie::budget::seal_within;
use crate::session::model::{now, Session, TokenSet, User};
use crate::session::store::reference_purpose;

/// The session cookie's `Set-Cookie` values for the new session.
pub async fn create(
    app: &App,
    loaded: &Loaded,
    req: &RequestView<'_>,
    tokens: CodeTokens,
    claims: IdClaims,
) -> Result<Vec<String>, Reply> {
    let t = tokens.at;
    let login = &loaded.config.provider.login;
    let kept = Claims::keep(&claims.other, &loaded.used_claims);
    let user = User {
        sub: claims.sub,
        name: claims.name,
        email: claims.email,
        sid: claims.sid,
    };
    let mut session = Session::new(user, t);
    session.claims = kept;
    session.refresh_token = tokens.refresh_token;
    session.id_token = Some(tokens.id_token);
    session.primary = Some(TokenSet {
        audience: login.audience.clone(),
        scope: tokens.grant.scope,
        requested: login.scope.clone(),
        access_token: tokens.grant.access_token,
        expires_at: tokens.grant.expires_at,
        last_used: t,
    });
    tracing::info!(sub = %session.user.sub, "login: session created");
    let sealed = store(app, loaded, &session).await?;
    let previous = loaded.cookies.present(req.headers);
    let max_age = loaded.lifetime.max_age(&session, t);
    Ok(loaded.cookies.write(&sealed, &previous, max_age))
}

/// Persists a new session and returns the cookie value that carries it: the whole sealed
/// session (cookie store) or a sealed reference to its Redis record.
async fn store(app: &App, loaded: &Loaded, session: &Session) -> Result<String, Reply> {
    let name = &loaded.cookies.name;
    match app.broker.redis() {
        None => seal_within(&loaded.keys, name, loaded.policy.cookie, session).map_err(|e| {
            app.metrics
                .session_rejected
                .with_label_values(&[&format!("seal_{}", e.reason())])
                .inc();
            tracing::error!(error = %e, "login: the new session does not fit the session cookie (limits.max_cookie_chunks, limits.max_cookie_bytes); use store: redis or fewer claims");
            Reply::error(502, ErrorCode::SessionTooLarge)
        }),
        Some(store) => {
            let ttl = loaded.lifetime.record_ttl(session, now());
            if let Err(e) = store.save(&loaded.keys, session, ttl).await {
                tracing::warn!(error = %e, "login: the session could not be stored");
                return Err(Reply::store_unavailable());
            }
            loaded
                .keys
                .seal(&reference_purpose(name), session.sid.as_bytes())
                .map_err(|_| Reply::error(500, ErrorCode::Internal))
        }
    }
}
