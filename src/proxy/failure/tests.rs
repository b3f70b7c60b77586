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
