//! Callback step 3b (`provider.userinfo: true`): the user's claims from the provider's userinfo
//! endpoint (OIDC Core §5.3), with the login's access token, added to the ID token's. The answer
//! must name the same `sub` (§5.3.2), else it is not this user's and the login fails; its claims
//! win over the ID token's (providers often put groups only there).

use super::login_error;
use crate::app::App;
use crate::discovery::ProviderMetadata;
use crate::http::outbound::read_bounded;
use crate::http::{ErrorCode, Reply};
use crate::id_token::IdClaims;
use serde_json::{Map, Value};
use std::time::Duration;

/// The largest userinfo answer read.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

pub async fn merge(
    app: &App,
    meta: &ProviderMetadata,
    access_token: &str,
    claims: &mut IdClaims,
) -> Result<(), Reply> {
    let invalid = |detail: &str| login_error(502, ErrorCode::ProviderInvalidResponse, Some(detail));
    let Some(endpoint) = &meta.userinfo_endpoint else {
        tracing::warn!("login: provider.userinfo is on but the provider has no userinfo_endpoint");
        return Err(invalid("userinfo_endpoint"));
    };
    let resp = app
        .http
        .get(endpoint.clone())
        .bearer_auth(access_token)
        .header("accept", "application/json")
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %crate::http::outbound::describe(&e), "login: userinfo failed");
            login_error(502, ErrorCode::ProviderUnavailable, Some("userinfo"))
        })?;
    if !resp.status().is_success() {
        tracing::warn!(status = resp.status().as_u16(), "login: userinfo refused");
        return Err(login_error(502, ErrorCode::ProviderError, Some("userinfo")));
    }
    let body = read_bounded(resp, MAX_USERINFO_BYTES)
        .await
        .map_err(|_| invalid("userinfo"))?;
    let info: Map<String, Value> =
        serde_json::from_slice(&body).map_err(|_| invalid("userinfo"))?;
    if info.get("sub").and_then(Value::as_str) != Some(claims.sub.as_str()) {
        tracing::warn!("login: the userinfo answer names another subject");
        return Err(invalid("userinfo_sub"));
    }
    apply(claims, info);
    Ok(())
}

/// The userinfo claims over the ID token's (`sub` is the same; `name` and `email` replace the
/// token's when present).
fn apply(claims: &mut IdClaims, info: Map<String, Value>) {
    for (name, value) in info {
        match (name.as_str(), value) {
            ("sub", _) => {}
            ("name", Value::String(v)) => claims.name = Some(v),
            ("email", Value::String(v)) => claims.email = Some(v),
            (_, value) => {
                claims.other.insert(name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
