//! The access log line and the request metric, written once per request in pingora's `logging`
//! phase. Neither carries a secret: route, status, latency, how the token was obtained, and the
//! gateway's error code.

use crate::app::App;
use crate::http::ErrorCode;
use crate::pipeline::RequestState;
use std::time::Instant;

/// Logs and counts one finished request.
pub fn record(
    app: &App,
    method: &http::Method,
    status: u16,
    started: Instant,
    state: &RequestState,
    upstream_error: Option<&pingora::Error>,
) {
    let route = state.route_name();
    app.metrics
        .requests
        .with_label_values(&[route, status_label(status)])
        .inc();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "tokengate::access",
        method = %method,
        route = %route,
        status,
        latency_ms = format_args!("{latency_ms:.2}"),
        token = state.token_label(),
        error = state.error.map_or("", ErrorCode::as_str),
        upstream_error = upstream_error.map(|e| e.etype().as_str()).unwrap_or(""),
        "request"
    );
}

/// Status codes as metric labels without allocating.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        101 => "101",
        204 => "204",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        431 => "431",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        0 => "0",
        s if s < 200 => "1xx",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}
