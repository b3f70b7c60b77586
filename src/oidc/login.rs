//! `GET /auth/login?returnTo=/path[&acr_values=..&max_age=..]`: starts a login (a step-up one,
//! RFC 9470, with `acr_values`/`max_age`, which the callback checks the new login against). A new transaction (state, nonce, PKCE
//! verifier; `transaction.rs`) is sealed into a short-lived cookie of its own, and the browser is
//! sent to the provider's authorization endpoint.

use super::query_param;
use super::transaction::{self, StepUp, Transaction};
use crate::app::{App, Loaded};
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
    Reply::redirect(url.as_str()).with_cookies([cookie])
}
