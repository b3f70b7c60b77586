//! Step 5, session: the request's session, from its cookie (or, with `store: redis`, from the
//! record its cookie names), made current with the latest state this process holds for it
//! (`tokens::broker`). A cookie that cannot be used is counted and cleared on the response,
//! never a 5xx. `auth: required` without a session is `401 unauthenticated`; `auth: optional`
//! goes on without one (`docs/reference.md#proxying-a-request`), and so does a request that
//! presents its own Bearer token on a `bearer: accept` route (step `bearer`).

use super::{Flow, RequestState};
use crate::app::App;
use crate::config::AuthMode;
use crate::http::{Reply, RequestView};
use crate::session::cookie::CookieSession;
use crate::session::model::now;
use crate::tokens::broker::SessionView;
use std::ops::ControlFlow;

pub fn needed(state: &RequestState) -> bool {
    state
        .route
        .as_ref()
        .is_some_and(|r| r.config.auth != AuthMode::None)
}

pub async fn step(app: &App, req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    if !needed(state) {
        return ControlFlow::Continue(());
    }
    let read = state.loaded.session_reader().read(req.headers, now());
    let view = match resolve(app, state, read).await {
        Ok(view) => view,
        Err(reply) => return ControlFlow::Break(reply),
    };
    let Some(view) = view else {
        if !state.session.chunks.is_empty() {
            state.session.clear = true;
        }
        return match state.route.as_ref().map(|r| r.config.auth) {
            // A machine client's own token: the `bearer` step decides.
            Some(AuthMode::Required) if !super::bearer::applies(state, req) => {
                ControlFlow::Break(Reply::unauthenticated())
            }
            _ => ControlFlow::Continue(()),
        };
    };
    state.session.view = Some(view);
    ControlFlow::Continue(())
}

/// The session the cookie names, if it names a live one; notes the chunks it carried.
async fn resolve(
    app: &App,
    state: &mut RequestState,
    read: CookieSession,
) -> Result<Option<SessionView>, Reply> {
    match read {
        CookieSession::Valid { session, chunks } => {
            state.session.chunks = chunks;
            Ok(app.broker.resolve(session))
        }
        CookieSession::Reference { sid, chunks } => {
            state.session.chunks = chunks;
            let loaded = &state.loaded;
            app.broker
                .resolve_reference(&sid, &loaded.keys, &loaded.lifetime)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "session store unavailable");
                    Reply::store_unavailable()
                })
        }
        CookieSession::Absent => Ok(None),
        CookieSession::Unusable { reason, chunks } => {
            app.metrics
                .session_rejected
                .with_label_values(&[reason])
                .inc();
            tracing::debug!(reason, "session cookie rejected");
            state.session.chunks = chunks;
            state.session.clear = true;
            Ok(None)
        }
    }
}
