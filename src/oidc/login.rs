//! `GET /auth/login?returnTo=/path[&acr_values=..&max_age=..]`: starts a login (a step-up one,
//! RFC 9470, with `acr_values`/`max_age`, which the callback checks the new login against). A
//! new transaction (state, nonce, PKCE verifier; `transaction.rs`) is sealed into a short-lived
//! cookie of its own, and the browser is sent to the provider's authorization endpoint.
//!
//! A login over a live session ends it here and revokes its refresh token, before the provider
//! sees the new request (`logout::end_before_login` says why not later). Only when the browser
//! does not mark the request as coming from another site (`Sec-Fetch-Site` `same-origin`,
//! `none`, or absent): a link on a third-party page must not log the user out. Otherwise the
//! session is left alone here, and the callback of the new login ends it without revoking.

use super::query_param;
use super::transaction::{self, StepUp, Transaction};
use crate::app::{App, Loaded};
use crate::discovery::ProviderMetadata;
use crate::http::{ErrorCode, Reply, RequestView};
use crate::path::safe_return_to;
use crate::session::cookie::set_cookie::{self, CookieAttrs};
use crate::session::model::now;

pub async fn start(app: &App, loaded: &Loaded, req: &RequestView<'_>) -> Reply {
    let meta = match app.discovery().get().await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "login: provider discovery failed");
            return Reply::error(502, ErrorCode::ProviderUnavailable);
        }
    };
    let return_to = safe_return_to(query_param(req, "returnTo").as_deref());
    let step_up = StepUp::parse(
        query_param(req, "acr_values").as_deref(),
        query_param(req, "max_age").as_deref(),
    );
    let mut tx = Transaction::new(return_to, now());
    match step_up {
        Ok(step_up) => tx.step_up = step_up,
        Err(parameter) => {
            return Reply::error_detail(400, ErrorCode::InvalidParameter, parameter);
        }
    }
    let name = &loaded.cookies.name;
    let Ok(plain) = serde_json::to_vec(&tx) else {
        return Reply::error(500, ErrorCode::Internal);
    };
    let Ok(sealed) = loaded
        .keys
        .seal(&transaction::transaction_purpose(name), &plain)
    else {
        return Reply::error(500, ErrorCode::Internal);
    };
    let cookie = set_cookie::set_cookie(
        &transaction::transaction_cookie_name(name, &tx.state),
        &sealed,
        &CookieAttrs {
            secure: loaded.cookies.secure,
            max_age: Some(transaction::TRANSACTION_TTL_SECS),
        },
    );
    let url = transaction::authorization_url(&meta.authorization_endpoint, &loaded.config, &tx);
    let mut cookies = end_previous(app, loaded, req, &meta).await;
    cookies.push(cookie);
    Reply::redirect(url.as_str()).with_cookies(cookies)
}

/// Ends (and revokes) the session the request carries, when the request may do so; returns the
/// `Set-Cookie` values that clear its cookie.
async fn end_previous(
    app: &App,
    loaded: &Loaded,
    req: &RequestView<'_>,
    meta: &ProviderMetadata,
) -> Vec<String> {
    let site = req
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if !may_end_session(site) {
        return Vec::new();
    }
    match super::current_session(app, loaded, req).await {
        Ok((Some(old), chunks)) => {
            super::logout::end_before_login(app, loaded, &old, meta).await;
            loaded.cookies.clear(&chunks)
        }
        Ok((None, _)) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "login: the previous session could not be read; the callback ends it");
            Vec::new()
        }
    }
}

/// Whether a login request may end the browser's session: not when the browser says it comes
/// from another site (`cross-site`, `same-site`); yes for `same-origin`, `none` (typed, a
/// bookmark) and no header (not a browser, or an old one).
pub fn may_end_session(sec_fetch_site: Option<&str>) -> bool {
    match sec_fetch_site.map(str::trim) {
        None => true,
        Some(site) => site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none"),
    }
}

#[cfg(test)]
mod tests;
