//! The mock's token exchange (RFC 8693) and client-credentials grants. A subject token is
//! accepted unless it is a mock JWT that has expired, or the test refused it
//! ([`MockProvider::refuse_subject`], [`MockProvider::refuse_all_subjects`]): a provider that holds
//! a token expired before the gateway's clock says so.

use super::{jwt, oauth_error, Fault, Inner, MockProvider, Shared, TokenCall};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

impl MockProvider {
    /// Answers `invalid_grant` to token exchanges presenting `subject`.
    pub fn refuse_subject(&self, subject: &str) {
        self.shared
            .lock()
            .refused_subjects
            .insert(subject.to_owned());
    }

    /// Answers `invalid_grant` to every token exchange (`false`: back to normal).
    pub fn refuse_all_subjects(&self, on: bool) {
        self.shared.lock().refuse_all_subjects = on;
    }

    /// The calls of one `grant_type`.
    pub fn calls_of(&self, grant_type: &str) -> Vec<TokenCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.field("grant_type") == Some(grant_type))
            .collect()
    }
}

/// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`.
pub(super) fn token_exchange(shared: &Shared, call: &TokenCall, fault: Option<&Fault>) -> Response {
    let types_ok = call.field("subject_token_type") == Some(ACCESS_TOKEN_TYPE)
        && call.field("requested_token_type") == Some(ACCESS_TOKEN_TYPE);
    let Some(subject) = call.field("subject_token").filter(|s| !s.is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    if !types_ok || call.field("refresh_token").is_some() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let mut inner = shared.lock();
    let expired = super::jwt_claims(subject)
        .and_then(|c| c["exp"].as_u64())
        .is_some_and(|exp| exp <= tokengate::session::model::now());
    if expired || inner.refuse_all_subjects || inner.refused_subjects.contains(subject) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    issue(&mut inner, call, fault)
}

/// `grant_type=client_credentials`: the client is already authenticated.
pub(super) fn client_credentials(
    shared: &Shared,
    call: &TokenCall,
    fault: Option<&Fault>,
) -> Response {
    if call.field("refresh_token").is_some() || call.field("subject_token").is_some() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    issue(&mut shared.lock(), call, fault)
}

/// A token for the requested audience and scope, without a refresh token (or the broken answer
/// `fault` asks for).
fn issue(inner: &mut Inner, call: &TokenCall, fault: Option<&Fault>) -> Response {
    match fault {
        Some(Fault::Json(v)) => return (StatusCode::OK, Json(v.clone())).into_response(),
        Some(Fault::Html) => {
            let html = [(axum::http::header::CONTENT_TYPE, "text/html")];
            return (StatusCode::OK, html, "<html>unavailable</html>").into_response();
        }
        _ => {}
    }
    let aud = call
        .field("audience")
        .or_else(|| call.field("resource"))
        .unwrap_or("default-aud");
    let scope = call.field("scope").unwrap_or("");
    inner.jti += 1;
    let exp = tokengate::session::model::now() + inner.expires_in;
    let body = json!({
        "access_token": jwt(aud, scope, exp, inner.jti),
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": inner.expires_in,
        "scope": scope,
    });
    (StatusCode::OK, Json(body)).into_response()
}
