//! The contract's outcome table (§4) as one function: why no token could be attached → the answer
//! the client gets. Kept apart so that the table and its tests read side by side.

use super::reply::Reply;
use crate::tokens::broker::TokenError;
use serde_json::json;

pub fn reply_for(e: &TokenError) -> Reply {
    match e {
        TokenError::SessionExpired => {
            Reply::error(401, "session_expired").with_header("www-authenticate", "Bearer")
        }
        TokenError::Unavailable { retry_after } => Reply::error(503, "token_endpoint_unavailable")
            .with_header("retry-after", retry_after.to_string()),
        TokenError::Denied { code } => {
            Reply::json(403, json!({ "error": "token_unavailable", "detail": code }))
        }
        TokenError::InvalidResponse => Reply::error(502, "token_endpoint_invalid_response"),
        TokenError::AudienceMismatch => Reply::json(
            403,
            json!({ "error": "token_unavailable", "detail": "audience_mismatch" }),
        ),
        TokenError::InsufficientScope { missing } => Reply::json(
            403,
            json!({ "error": "insufficient_scope", "missing": missing.to_string() }),
        ),
        TokenError::StoreUnavailable => store_unavailable(),
        TokenError::Busy => Reply::error(503, "session_busy").with_header("retry-after", "1"),
    }
}

/// Redis did not answer: the session cannot be read or written right now.
pub fn store_unavailable() -> Reply {
    Reply::error(503, "session_store_unavailable").with_header("retry-after", "2")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::scope::Scope;

    fn body(r: &Reply) -> serde_json::Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn each_row_of_the_table() {
        let r = reply_for(&TokenError::SessionExpired);
        assert_eq!(
            (r.status, body(&r)),
            (401, json!({"error": "session_expired"}))
        );

        let r = reply_for(&TokenError::Unavailable { retry_after: 7 });
        assert_eq!(
            (r.status, body(&r)),
            (503, json!({"error": "token_endpoint_unavailable"}))
        );
        assert_eq!(header(&r, "retry-after"), Some("7"));

        let r = reply_for(&TokenError::Denied {
            code: "invalid_scope".into(),
        });
        assert_eq!(
            (r.status, body(&r)),
            (
                403,
                json!({"error": "token_unavailable", "detail": "invalid_scope"})
            )
        );

        let r = reply_for(&TokenError::InvalidResponse);
        assert_eq!(
            (r.status, body(&r)),
            (502, json!({"error": "token_endpoint_invalid_response"}))
        );

        let r = reply_for(&TokenError::AudienceMismatch);
        assert_eq!(
            (r.status, body(&r)),
            (
                403,
                json!({"error": "token_unavailable", "detail": "audience_mismatch"})
            )
        );

        let r = reply_for(&TokenError::InsufficientScope {
            missing: Scope::parse("b a"),
        });
        assert_eq!(
            (r.status, body(&r)),
            (
                403,
                json!({"error": "insufficient_scope", "missing": "a b"})
            )
        );
    }
}
