//! Why no token could be attached, and the answer the client gets for each reason: the outcome
//! table of `docs/reference.md#token-endpoint-outcomes` as one match, from which both the reply
//! and the log/metric label are read.

use super::scope::Scope;
use crate::http::{ErrorCode, Reply};
use serde_json::json;

/// Why no token could be attached; each is one row of the outcome table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// `invalid_grant`, or no refresh token to exchange: the session is over.
    SessionExpired,
    /// The provider refused a token exchange's subject token (`invalid_grant`): the broker
    /// renews the subject and tries once more, so no client sees this (if one did, it would be
    /// answered like `SessionExpired`).
    SubjectRejected,
    Unavailable {
        retry_after: u64,
    },
    Denied {
        code: String,
    },
    InvalidResponse,
    AudienceMismatch,
    InsufficientScope {
        missing: Scope,
    },
    /// Redis did not answer.
    StoreUnavailable,
    /// Another replica held the session's refresh lock for longer than a request may wait.
    Busy,
    /// The session has no refresh token for a token of another audience than the login's; the
    /// session is kept.
    NoRefreshToken,
}

impl TokenError {
    /// The answer the client gets.
    pub fn reply(&self) -> Reply {
        self.outcome().0
    }

    /// The metric label and log code.
    pub fn code(&self) -> &'static str {
        self.outcome().1
    }

    /// The table: the answer, and the label logs and metrics use (the error code, except where
    /// one code covers several causes).
    fn outcome(&self) -> (Reply, &'static str) {
        let reply = match self {
            TokenError::SessionExpired | TokenError::SubjectRejected => {
                Reply::error(401, ErrorCode::SessionExpired)
                    .with_header("www-authenticate", "Bearer")
            }
            TokenError::Unavailable { retry_after } => {
                Reply::error(503, ErrorCode::TokenEndpointUnavailable)
                    .with_header("retry-after", retry_after.to_string())
            }
            TokenError::Denied { code } => {
                Reply::error_detail(403, ErrorCode::TokenUnavailable, code)
            }
            TokenError::InvalidResponse => {
                Reply::error(502, ErrorCode::TokenEndpointInvalidResponse)
            }
            TokenError::AudienceMismatch => {
                let reply =
                    Reply::error_detail(403, ErrorCode::TokenUnavailable, "audience_mismatch");
                return (reply, "audience_mismatch");
            }
            TokenError::InsufficientScope { missing } => Reply::error_with(
                403,
                ErrorCode::InsufficientScope,
                [("missing", json!(missing.to_string()))],
            ),
            TokenError::StoreUnavailable => Reply::store_unavailable(),
            TokenError::NoRefreshToken => {
                let reply =
                    Reply::error_detail(403, ErrorCode::TokenUnavailable, "no_refresh_token");
                return (reply, "no_refresh_token");
            }
            TokenError::Busy => {
                Reply::error(503, ErrorCode::SessionBusy).with_header("retry-after", "1")
            }
        };
        let label = reply.code.map_or("", ErrorCode::as_str);
        (reply, label)
    }
}

#[cfg(test)]
mod tests;
