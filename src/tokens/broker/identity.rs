//! A refresh's new ID token, with `store: redis`: the claims a session keeps are read from it
//! while the session's lock is held and written in the same conditional write as the rotated
//! refresh token, since the record may be rewritten only there (another replica may be storing
//! a newer refresh token). The broker knows nothing of policy: the pipeline hands it a
//! [`ClaimsUpdater`] built from the loaded config, and the broker only stores what it answers.

use crate::session::claims::Claims;
use crate::session::model::Session;

/// Reads the claims a session keeps from a new ID token its refresh brought.
#[async_trait::async_trait]
pub trait ClaimsUpdater: Send + Sync {
    /// The claims to keep for `session` from `id_token`; `None` keeps the session's (the token
    /// was not valid, or names another subject: the implementation logs why, without values).
    async fn claims(&self, session: &Session, id_token: &str) -> Option<Claims>;
}

/// Puts into `next` the claims of the ID token the exchange brought, when it brought a new one
/// and `updater` accepts it.
pub(super) async fn refresh_claims(
    updater: Option<&dyn ClaimsUpdater>,
    session: &Session,
    next: &mut Session,
) {
    let (Some(updater), Some(id_token)) = (updater, next.id_token.as_deref()) else {
        return;
    };
    if session.id_token.as_deref() == Some(id_token) {
        return;
    }
    if let Some(claims) = updater.claims(session, id_token).await {
        next.claims = claims;
    }
}
