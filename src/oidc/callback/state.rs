//! Callback step 1: the login transaction the `state` names, and the provider's `code`.

use super::login_error;
use crate::app::Loaded;
use crate::http::{ErrorCode, Reply, RequestView};
use crate::oidc::query_param;
use crate::oidc::transaction::{self, Transaction};
use crate::session::cookie::{header, set_cookie};
use crate::session::model::now;

/// The transaction, and the `Set-Cookie` value that clears its cookie (sent with every answer
/// from here on, success or not).
pub fn transaction(loaded: &Loaded, req: &RequestView<'_>) -> Result<(Transaction, String), Reply> {
    let Some(state) = query_param(req, "state").filter(|s| transaction::plausible_state(s)) else {
        return Err(login_error(400, ErrorCode::InvalidState, None));
    };
    let name = &loaded.cookies.name;
    let tx_cookie = transaction::transaction_cookie_name(name, &state);
    let clear_tx = set_cookie::clear_cookie(&tx_cookie, loaded.cookies.secure);
    let tx: Option<Transaction> = header::find(req.headers, &tx_cookie)
        .and_then(|v| {
            let purpose = transaction::transaction_purpose(name);
            loaded.keys.open(&purpose, v).ok()
        })
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    match tx.filter(|t| t.state == state && !t.expired(now())) {
        Some(tx) => Ok((tx, clear_tx)),
        None => Err(login_error(400, ErrorCode::InvalidState, None).with_cookies([clear_tx])),
    }
}

/// The authorization code, unless the provider answered with an `error`.
pub fn code(req: &RequestView<'_>) -> Result<String, Reply> {
    if let Some(err) = query_param(req, "error") {
        let code = sanitize_code(&err);
        return Err(login_error(400, ErrorCode::LoginFailed, Some(&code)));
    }
    query_param(req, "code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| login_error(400, ErrorCode::MissingCode, None))
}

/// Provider error codes are echoed in `detail`; only plain codes pass.
fn sanitize_code(code: &str) -> String {
    if !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        code.to_owned()
    } else {
        "invalid_error_code".to_owned()
    }
}
