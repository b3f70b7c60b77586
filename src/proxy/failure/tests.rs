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

#[test]
fn an_upstream_tls_alert_read_after_the_handshake_is_a_tls_failure() {
    let alert = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
    );
    let mut inner = pingora::Error::new_up(ErrorType::ReadError);
    inner.set_cause(alert);
    let mut outer = pingora::Error::new_up(ErrorType::ReadError);
    outer.set_cause(inner);
    assert_eq!(kind_of(&outer), &ErrorType::TLSHandshakeFailure);
    assert_eq!(
        failure(kind_of(&outer).clone(), ErrorSource::Upstream),
        Some((
            502,
            json!({"error": "upstream_unavailable", "detail": "tls"})
        ))
    );

    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    let mut plain = pingora::Error::new_up(ErrorType::ReadError);
    plain.set_cause(reset);
    assert_eq!(kind_of(&plain), &ErrorType::ReadError);
    // A client's TLS trouble is the client's, never an upstream failure.
    let mut down = pingora::Error::new_down(ErrorType::ReadError);
    down.set_cause(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::DecryptError,
    ));
    assert_eq!(kind_of(&down), &ErrorType::ReadError);
}

#[test]
fn a_framing_violation_on_the_client_side_is_400_with_its_detail() {
    use crate::http::framing::Violation;
    let (reply, reason) = framing_failure(Some(Violation::InvalidChunk), &ErrorSource::Downstream)
        .expect("a framing failure");
    assert_eq!(reason, "invalid_chunk");
    assert_eq!(reply.status, 400);
    assert!(framing_failure(Some(Violation::InvalidChunk), &ErrorSource::Upstream).is_none());
    assert!(framing_failure(None, &ErrorSource::Downstream).is_none());
}
