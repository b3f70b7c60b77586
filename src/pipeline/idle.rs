//! Step 8, idle: a session in use stays alive. Its idle clock (`session.idle_timeout`) is
//! refreshed at most every tenth of the timeout (`Lifetime::needs_touch`), so an active session
//! is rewritten rarely rather than on every request. A failure to extend it is logged, not
//! answered: the request itself can still be served.

use super::{Flow, RequestState};
use crate::app::App;
use crate::session::model::now;
use std::ops::ControlFlow;

pub async fn step(app: &App, state: &mut RequestState) -> Flow {
    let Some(view) = state.session.view.as_mut() else {
        return ControlFlow::Continue(());
    };
    let lifetime = &state.loaded.lifetime;
    if lifetime.needs_touch(&view.session, now()) {
        if let Err(e) = app.broker.touch(view, lifetime, state.loaded.policy).await {
            tracing::warn!(error = %e, "could not extend the session's idle timeout");
        }
    }
    ControlFlow::Continue(())
}
