//! After the pipeline: the `Set-Cookie` values of the answer, whoever writes it (the gateway's
//! own reply, the upstream's response, or an error after proxying failed). The cookie is
//! written from the session's *latest* state at that moment, and only when it changed
//! (`docs/reference.md#concurrency-and-rotation`), or cleared when it could not be used.

use super::RequestState;
use crate::app::App;
use crate::http::Reply;
use crate::session::cookie::budget::seal_within;
use crate::session::model::now;
use crate::tokens::broker::CookieUpdate;

/// `Set-Cookie` values for the response: the latest session when it changed, or clearing.
pub fn set_cookies(app: &App, state: &mut RequestState) -> Vec<String> {
    let loaded = &state.loaded;
    let cookies = &loaded.cookies;
    let update = match &state.session.view {
        Some(view) => app.broker.cookie_for_response(view, |s| {
            seal_within(&loaded.keys, &cookies.name, loaded.policy.cookie, s)
        }),
        None => CookieUpdate::Unchanged,
    };
    let chunks = &state.session.chunks;
    match update {
        CookieUpdate::Write(sealed) => {
            let max_age = state
                .session
                .view
                .as_ref()
                .map(|v| loaded.lifetime.max_age(&v.session, now()))
                .unwrap_or(0);
            cookies.write(&sealed, chunks, max_age)
        }
        CookieUpdate::Clear => {
            state.session.clear = false;
            cookies.clear(chunks)
        }
        CookieUpdate::Unchanged if state.session.clear => {
            state.session.clear = false;
            cookies.clear(chunks)
        }
        CookieUpdate::Unchanged => Vec::new(),
    }
}

/// The gateway's own answer, finished: its error code noted for the access log, and an unusable
/// session cookie cleared.
pub fn finish(state: &mut RequestState, mut reply: Reply) -> Reply {
    if reply.code.is_some() {
        state.error = reply.code;
    }
    if state.session.clear {
        reply = reply.with_cookies(state.loaded.cookies.clear(&state.session.chunks));
    }
    reply
}
