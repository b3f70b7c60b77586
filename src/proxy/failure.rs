//! Why proxying failed after the gateway decided to forward (pingora's `fail_to_proxy`), and
//! whether the client is still there to hear it.

use crate::http::framing::Violation;
use crate::http::{ErrorCode, Reply};
use pingora::{ErrorSource, ErrorType};

/// The label of `tokengate_upstream_errors_total` for an upstream whose certificate could not be
/// verified, or that refused the gateway's (the answer's `detail`).
pub const TLS: &str = "tls";

/// The client's bytes broke the framing rules after the request was let through (a bad chunk
/// line in a body being forwarded; `proxy::tap` failed the read that carried it): `400
/// {"error":"bad_request","detail":..}`, with the reason for `tokengate_requests_refused_total`.
/// `None` when the failure has another cause.
pub fn framing_failure(
    violation: Option<Violation>,
    source: &ErrorSource,
) -> Option<(Reply, &'static str)> {
    let violation = violation.filter(|_| *source == ErrorSource::Downstream)?;
    let reply = Reply::error_detail(400, ErrorCode::BadRequest, violation.detail());
    Some((reply, violation.detail()))
}

/// The gateway's line for a failed proxy attempt, in place of pingora's: the error's kind and
/// side, never its context (which may hold an upstream's response head) nor the request's query.
pub fn log(e: &pingora::Error, route: &str) {
    let (kind, source) = (e.etype().as_str(), e.esource().as_str());
    if *e.esource() == ErrorSource::Upstream {
        tracing::error!(route, error = kind, source, "proxying failed");
    } else {
        tracing::debug!(route, error = kind, source, "proxying failed");
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
        (
            ErrorSource::Upstream,
            TLSHandshakeFailure | InvalidCert | HandshakeError | TLSWantX509Lookup,
        ) => Some((
            Reply::error_detail(502, ErrorCode::UpstreamUnavailable, TLS),
            Some(TLS),
        )),
        (ErrorSource::Upstream, _) => upstream(502, ErrorCode::UpstreamUnavailable),
        (ErrorSource::Downstream, ReadTimedout) => {
            Some((Reply::error(408, ErrorCode::RequestTimeout), None))
        }
        (ErrorSource::Downstream, _) => Some((Reply::error(400, ErrorCode::BadRequest), None)),
        _ => Some((Reply::error(500, ErrorCode::Internal), None)),
    }
}

/// The error's kind for [`proxy_failure`]: an upstream error caused by TLS counts as a TLS
/// handshake failure even when pingora saw it later. With TLS 1.3 the client's side of the
/// handshake ends before the server has checked the client certificate; an upstream that
/// refuses the gateway's certificate (or wants one) says so with an alert that pingora reads
/// as a `ReadError` of the response head.
pub fn kind_of(e: &pingora::Error) -> &ErrorType {
    if *e.esource() == ErrorSource::Upstream && caused_by_tls(e.root_cause()) {
        &ErrorType::TLSHandshakeFailure
    } else {
        e.etype()
    }
}

/// Whether `cause` is an I/O error carrying a rustls error (an alert received or sent).
pub fn caused_by_tls(cause: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    cause
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .is_some_and(|inner| inner.is::<rustls::Error>())
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
mod tests;
