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
mod tests;
