//! The token-endpoint request of each grant as a form, and what of its answer the session may
//! keep. Pure, so every grant's fields have a unit test; the HTTP call is `tokens::client`'s.

use crate::tokens::response::Exchange;

/// RFC 8693 §2.1's `grant_type`.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3: the subject is, and the result must be, an OAuth access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What a token request presents.
#[derive(Clone, Copy, Debug)]
pub enum GrantRequest<'a> {
    /// The session's refresh token (MRRT).
    RefreshToken(&'a str),
    /// RFC 8693 with the session's primary access token as the subject.
    TokenExchange { subject_token: &'a str },
    /// The gateway's own token: client authentication is the only credential.
    ClientCredentials,
}

impl GrantRequest<'_> {
    /// The `grant` label of metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            GrantRequest::RefreshToken(_) => "refresh_token",
            GrantRequest::TokenExchange { .. } => "token_exchange",
            GrantRequest::ClientCredentials => "client_credentials",
        }
    }
}

/// The form fields (without client authentication) asking for a token for `audience` with
/// `scope`. `resource_param` names the audience field (`audience` or `resource`); an empty
/// `scope` is not sent, so the provider grants its default.
pub fn form<'a>(
    grant: GrantRequest<'a>,
    resource_param: &'a str,
    audience: Option<&'a str>,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = match grant {
        GrantRequest::RefreshToken(rt) => {
            vec![("grant_type", "refresh_token"), ("refresh_token", rt)]
        }
        GrantRequest::TokenExchange { subject_token } => vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject_token),
            ("subject_token_type", ACCESS_TOKEN_TYPE),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
        ],
        GrantRequest::ClientCredentials => vec![("grant_type", "client_credentials")],
    };
    if let Some(aud) = audience {
        form.push((resource_param, aud));
    }
    if !scope.is_empty() {
        form.push(("scope", scope));
    }
    form
}

/// Only a refresh-token answer speaks for the session: a refresh token or ID token in the answer
/// to another grant belongs to the token that grant issued (RFC 8693 §2.2.1), and storing it as
/// the session's would replace the login's refresh token with a stranger's.
pub fn keep_for_session(grant: GrantRequest<'_>, exchange: Exchange) -> Exchange {
    if matches!(grant, GrantRequest::RefreshToken(_)) {
        return exchange;
    }
    match exchange {
        Exchange::Success { grant, .. } => Exchange::Success {
            grant,
            refresh_token: None,
            id_token: None,
        },
        Exchange::Denied { code, .. } => Exchange::Denied {
            code,
            refresh_token: None,
        },
        Exchange::InvalidResponse { reason, .. } => Exchange::InvalidResponse {
            reason,
            refresh_token: None,
        },
        Exchange::AudienceMismatch { .. } => Exchange::AudienceMismatch {
            refresh_token: None,
        },
        other @ (Exchange::InvalidGrant | Exchange::Unavailable { .. }) => other,
    }
}

#[cfg(test)]
mod tests;
