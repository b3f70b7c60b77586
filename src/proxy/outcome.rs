//! Why proxying failed after the gateway decided to forward (pingora's `fail_to_proxy`), and
//! whether the client is still there to hear it.

use crate::http::{ErrorCode, Reply};
use pingora::{ErrorSource, ErrorType};

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
    use serde_json::json;

    fn body(r: &Reply) -> serde_json::Value {
        serde_json::from_slice(&r.body).unwrap()
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
}
