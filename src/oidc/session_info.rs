//! `GET /auth/session`: who is logged in, for the front end. Never a token.

use super::current_session;
use crate::app::{App, Loaded};
use crate::http::{Reply, RequestView};
use serde_json::json;

pub async fn answer(app: &App, loaded: &Loaded, req: &RequestView<'_>) -> Reply {
    let Ok(current) = current_session(app, loaded, req).await else {
        return Reply::store_unavailable();
    };
    match current {
        (Some(s), _) => Reply::json(
            200,
            json!({
                "authenticated": true,
                // For a logout link from another site (`?sid=`); not the internal id.
                "sid": super::logout::logout_sid(&s.sid),
                "user": { "sub": s.user.sub, "name": s.user.name, "email": s.user.email },
                "expires_at": s.created_at.saturating_add(loaded.config.session.absolute_lifetime.as_secs()),
            }),
        ),
        (None, chunks) if chunks.is_empty() => Reply::json(401, json!({ "authenticated": false })),
        (None, chunks) => Reply::json(401, json!({ "authenticated": false }))
            .with_cookies(loaded.cookies.clear(&chunks)),
    }
}
