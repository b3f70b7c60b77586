//! `GET /auth/callback?code&state`: finishes the login `login.rs` started, one step per file:
//!
//! 1. `state.rs`: the `state` names a transaction cookie that opens and has not expired; the
//!    provider sent a `code`, not an `error`.
//! 2. `exchange.rs`: the code (with the PKCE verifier) becomes tokens at the token endpoint.
//! 3. `validate.rs`: the ID token is signed by the provider, for this client, with this nonce,
//!    and reaches the `acr`/`auth_time` a step-up login asked for; `userinfo.rs` adds the
//!    userinfo endpoint's claims when `provider.userinfo` is on.
//! 4. `session.rs`: the session is created, stored, and written into the cookie; a session the
//!    browser still had is ended first (`logout::replace`).
//!
//! Every failure is a JSON error that also clears the transaction cookie, and leaves no session.

mod exchange;
mod session;
mod state;
mod userinfo;
mod validate;

use super::transaction::Transaction;
use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Reply, RequestView};

pub async fn finish(app: &App, loaded: &Loaded, req: &RequestView<'_>) -> Reply {
    let (tx, clear_tx) = match state::transaction(loaded, req) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    match complete(app, loaded, req, &tx).await {
        Ok(mut set_cookies) => {
            set_cookies.push(clear_tx);
            Reply::redirect(&tx.return_to).with_cookies(set_cookies)
        }
        Err(reply) => reply.with_cookies([clear_tx]),
    }
}

/// Steps 1 (the code) to 4: the session cookie's `Set-Cookie` values, or the error answer.
async fn complete(
    app: &App,
    loaded: &Loaded,
    req: &RequestView<'_>,
    tx: &Transaction,
) -> Result<Vec<String>, Reply> {
    let code = state::code(req)?;
    let meta = app
        .discovery()
        .get()
        .await
        .map_err(|_| login_error(502, ErrorCode::ProviderUnavailable, None))?;
    let tokens = exchange::code(app, loaded, &code, tx).await?;
    let mut claims = validate::id_token(app, loaded, &meta, &tokens.id_token, tx).await?;
    validate::step_up(&claims, tx)?;
    if loaded.config.provider.userinfo {
        userinfo::merge(app, &meta, &tokens.grant.access_token, &mut claims).await?;
    }
    // A new login over a session this browser still holds ends that one, so it cannot live on
    // in another copy of its cookie (`logout::replace` says why it is not revoked).
    if let Ok((Some(old), _)) = super::current_session(app, loaded, req).await {
        super::logout::replace(app, &old).await;
    }
    session::create(app, loaded, req, tokens, claims).await
}

/// A login failure: `{"error": code}`, with the provider's or the check's `detail` when there is
/// one.
fn login_error(status: u16, code: ErrorCode, detail: Option<&str>) -> Reply {
    match detail {
        Some(d) => Reply::error_detail(status, code, d),
        None => Reply::error(status, code),
    }
}
