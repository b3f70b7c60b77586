//! The OpenID Connect side of the gateway: the `/auth/*` endpoints
//! (`docs/reference.md#gateway-endpoints`), each in its own file, and ID-token validation. They
//! never reach an upstream: each turns the request into a [`Reply`]; failures are JSON errors
//! and never leave a session behind.
//!
//! * `login.rs`: `GET /auth/login` starts a login (`transaction.rs`: state, nonce, PKCE).
//! * `callback/`: `GET /auth/callback` checks the state, exchanges the code, validates the ID
//!   token, creates the session and redirects, each a step of its own.
//! * `logout.rs`, `session_info.rs`, `backchannel.rs`: the other endpoints.

pub mod backchannel;
pub mod callback;
pub mod login;
pub mod logout;
pub mod session_info;
pub mod transaction;

use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Incoming, Reply, RequestView};
use crate::session::cookie::CookieSession;
use crate::session::model::{now, Session};
use crate::session::store::StoreError;
use std::sync::Arc;

/// Answers a request whose normalised path is under `/auth`.
pub async fn handle(app: &App, loaded: &Loaded, req: &mut dyn Incoming, path: &str) -> Reply {
    let method = req.view().method.clone();
    match (path, method.as_str()) {
        ("/auth/session", "GET" | "HEAD") => session_info::answer(app, loaded, &req.view()).await,
        ("/auth/login", "GET" | "HEAD") => login::start(app, loaded, &req.view()).await,
        ("/auth/callback", "GET") => callback::finish(app, loaded, &req.view()).await,
        ("/auth/logout", "GET" | "POST") => logout::answer(app, loaded, &req.view()).await,
        ("/auth/backchannel-logout", "POST") => backchannel::handle(app, loaded, req).await,
        (
            "/auth/session"
            | "/auth/login"
            | "/auth/callback"
            | "/auth/logout"
            | "/auth/backchannel-logout",
            _,
        ) => Reply::error(405, ErrorCode::MethodNotAllowed),
        _ => Reply::error(404, ErrorCode::NotFound),
    }
}

/// The first query parameter `name`, decoded.
fn query_param(req: &RequestView<'_>, name: &str) -> Option<String> {
    let q = req.query?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The request's session (if any) and the session-cookie chunks it carried.
async fn current_session(
    app: &App,
    loaded: &Loaded,
    req: &RequestView<'_>,
) -> Result<(Option<Arc<Session>>, Vec<usize>), StoreError> {
    let read = loaded.session_reader().read(req.headers, now());
    let chunks = read.chunks().to_vec();
    let session = match read {
        CookieSession::Valid { session, .. } => app.broker.resolve(session).map(|v| v.session),
        CookieSession::Reference { sid, .. } => app
            .broker
            .resolve_reference(&sid, &loaded.keys, &loaded.lifetime)
            .await?
            .map(|v| v.session),
        _ => None,
    };
    Ok((session, chunks))
}
