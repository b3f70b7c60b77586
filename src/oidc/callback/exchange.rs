//! Callback step 2: the authorization code, with the PKCE verifier, exchanged at the token
//! endpoint, and the answer judged like every token-endpoint answer (`tokens::response::judge`).

use super::login_error;
use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Reply};
use crate::oidc::transaction::{self, Transaction};
use crate::session::model::{now, UnixSeconds};
use crate::tokens::response::{judge, Exchange, Grant};

/// What the code exchange produced.
pub struct CodeTokens {
    pub grant: Grant,
    pub refresh_token: Option<String>,
    pub id_token: String,
    /// When the answer was judged: the session's creation time.
    pub at: UnixSeconds,
}

pub async fn code(
    app: &App,
    loaded: &Loaded,
    code: &str,
    tx: &Transaction,
) -> Result<CodeTokens, Reply> {
    let provider = &loaded.config.provider;
    let redirect_uri = transaction::redirect_uri(&loaded.config);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", tx.code_verifier.as_str()),
    ];
    if let Some(aud) = &provider.login.audience {
        form.push((provider.resource_param.as_str(), aud.as_str()));
    }
    let raw = match app.broker.client().post_token(provider, form).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = ?e, "login: code exchange failed");
            return Err(login_error(502, ErrorCode::ProviderUnavailable, None));
        }
    };
    let at = now();
    let audience = provider.login.audience.as_deref();
    let (grant, refresh_token, id_token) =
        match judge(raw.status, &raw.body, audience, &provider.login.scope, at) {
            Exchange::Success {
                grant,
                refresh_token,
                id_token,
            } => (grant, refresh_token, id_token),
            other => return Err(refused(other)),
        };
    let Some(id_token) = id_token else {
        return Err(login_error(502, ErrorCode::InvalidIdToken, Some("missing")));
    };
    Ok(CodeTokens {
        grant,
        refresh_token,
        id_token,
        at,
    })
}

/// The answer to a code exchange that did not succeed.
fn refused(exchange: Exchange) -> Reply {
    match exchange {
        Exchange::InvalidGrant => login_error(400, ErrorCode::InvalidCode, None),
        Exchange::Unavailable { .. } | Exchange::Success { .. } => {
            login_error(502, ErrorCode::ProviderUnavailable, None)
        }
        Exchange::Denied { code, .. } => login_error(502, ErrorCode::ProviderError, Some(&code)),
        Exchange::InvalidResponse { reason, .. } => {
            login_error(502, ErrorCode::ProviderInvalidResponse, Some(reason))
        }
        Exchange::AudienceMismatch { .. } => login_error(
            502,
            ErrorCode::ProviderInvalidResponse,
            Some("audience_mismatch"),
        ),
    }
}
