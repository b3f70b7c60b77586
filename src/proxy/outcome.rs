//! The contract's outcome table (§4) as one function: why no token could be attached → the answer
//! the client gets. Kept apart so that the table and its tests read side by side.

use crate::http::{ErrorCode, Reply};
use crate::tokens::broker::TokenError;
use pingora::{ErrorSource, ErrorType};
use serde_json::json;

pub fn reply_for(e: &TokenError) -> Reply {
    match e {
        TokenError::SessionExpired => {
            Reply::error(401, ErrorCode::SessionExpired).with_header("www-authenticate", "Bearer")
        }
        TokenError::Unavailable { retry_after } => {
            Reply::error(503, ErrorCode::TokenEndpointUnavailable)
                .with_header("retry-after", retry_after.to_string())
        }
        TokenError::Denied { code } => Reply::error_detail(403, ErrorCode::TokenUnavailable, code),
        TokenError::InvalidResponse => Reply::error(502, ErrorCode::TokenEndpointInvalidResponse),
        TokenError::AudienceMismatch => {
            Reply::error_detail(403, ErrorCode::TokenUnavailable, "audience_mismatch")
        }
        TokenError::InsufficientScope { missing } => Reply::error_with(
            403,
            ErrorCode::InsufficientScope,
            [("missing", json!(missing.to_string()))],
        ),
        TokenError::StoreUnavailable => Reply::store_unavailable(),
        TokenError::Busy => {
            Reply::error(503, ErrorCode::SessionBusy).with_header("retry-after", "1")
        }
    }
}

/// Why proxying failed after the gateway had decided to forward (pingora's `fail_to_proxy`) →
/// the JSON answer, with the `kind` counted in `tokengate_upstream_errors_total` for upstream
/// failures. `None`: the client's connection is gone, nothing can be written.
pub fn proxy_failure(
    kind: &ErrorType,
    source: &ErrorSource,
) -> Option<(Reply, Option<&'static str>)> {
    use ErrorType::*;
    let upstream =
        |status, code: ErrorCode| Some((Reply::error(status, code), Some(code.as_str())));
    if client_went_away(kind, source) {
        return None;
    }
    match (source, kind) {
        (_, HTTPStatus(status)) if (400..500).contains(status) => {
            Some((Reply::error(*status, ErrorCode::BadRequest), None))
        }
        (
            ErrorSource::Upstream,
            ConnectTimedout | TLSHandshakeTimedout | ReadTimedout | WriteTimedout,
        ) => upstream(504, ErrorCode::UpstreamTimeout),
        (ErrorSource::Upstream, _) => upstream(502, ErrorCode::UpstreamUnavailable),
        (ErrorSource::Downstream, ReadTimedout) => {
            Some((Reply::error(408, ErrorCode::RequestTimeout), None))
        }
        (ErrorSource::Downstream, _) => Some((Reply::error(400, ErrorCode::BadRequest), None)),
        _ => Some((Reply::error(500, ErrorCode::Internal), None)),
    }
}

/// The client went away (closed the connection, or it broke, or stopped reading its answer)
/// before its answer: routine for a proxy (a browser leaving a page, a load generator stopping),
/// so not an `ERROR` line, and nothing can be written to it; the access log still records the
/// request.
pub fn client_went_away(kind: &ErrorType, source: &ErrorSource) -> bool {
    *source == ErrorSource::Downstream
        && matches!(
            kind,
            ErrorType::ConnectionClosed
                | ErrorType::ReadError
                | ErrorType::WriteError
                | ErrorType::WriteTimedout
        )
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

    fn failure(kind: ErrorType, source: ErrorSource) -> Option<(u16, serde_json::Value)> {
        proxy_failure(&kind, &source).map(|(r, _)| (r.status, body(&r)))
    }

    #[test]
    fn proxy_failures_are_json_with_a_status_per_cause() {
        use ErrorType::*;
        for kind in [
            ConnectTimedout,
            ReadTimedout,
            WriteTimedout,
            TLSHandshakeTimedout,
        ] {
            assert_eq!(
                failure(kind, ErrorSource::Upstream),
                Some((504, json!({"error": "upstream_timeout"})))
            );
        }
        for kind in [
            ConnectRefused,
            ConnectNoRoute,
            ReadError,
            ConnectionClosed,
            H1Error,
        ] {
            assert_eq!(
                failure(kind, ErrorSource::Upstream),
                Some((502, json!({"error": "upstream_unavailable"})))
            );
        }
        for kind in [ReadError, WriteError, ConnectionClosed] {
            assert_eq!(failure(kind, ErrorSource::Downstream), None, "client gone");
        }
        assert_eq!(
            failure(ReadTimedout, ErrorSource::Downstream),
            Some((408, json!({"error": "request_timeout"})))
        );
        assert_eq!(failure(WriteTimedout, ErrorSource::Downstream), None);
        assert_eq!(
            failure(HTTPStatus(400), ErrorSource::Unset),
            Some((400, json!({"error": "bad_request"})))
        );
        assert_eq!(
            failure(InternalError, ErrorSource::Internal),
            Some((500, json!({"error": "internal"})))
        );
        assert!(client_went_away(
            &ConnectionClosed,
            &ErrorSource::Downstream
        ));
        assert!(!client_went_away(&ConnectionClosed, &ErrorSource::Upstream));
        assert!(!client_went_away(&ReadTimedout, &ErrorSource::Downstream));
        let metric = |k, s| proxy_failure(&k, &s).and_then(|(_, m)| m);
        assert_eq!(
            metric(ConnectRefused, ErrorSource::Upstream),
            Some("upstream_unavailable")
        );
        assert_eq!(metric(InvalidHTTPHeader, ErrorSource::Downstream), None);
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
