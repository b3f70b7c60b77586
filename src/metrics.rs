//! The gateway's Prometheus metrics, in a registry of their own (pingora registers its own in the
//! default one). Every failure the gateway answers is counted here with the route and the error
//! code, so an operator can alert on it without reading logs.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Labels of `tokengate_config_reloads_total`.
pub const RELOAD_SUCCESS: &str = "success";
pub const RELOAD_REJECTED: &str = "rejected";

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub token_requests: IntCounterVec,
    pub token_cache: IntCounterVec,
    pub token_duration: HistogramVec,
    pub refresh_coalesced: IntCounter,
    pub session_rejected: IntCounterVec,
    pub sessions_cleared: IntCounterVec,
    pub reloads: IntCounterVec,
    pub upstream_errors: IntCounterVec,
    /// Proxy requests between their first byte and their log line; what `SIGTERM` waits for.
    pub in_flight: IntGauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .expect("static metric definition is valid");
            registry
                .register(Box::new(c.clone()))
                .expect("metric names are unique");
            c
        };
        let requests = counter_vec(
            "tokengate_requests_total",
            "Requests answered, by route and HTTP status.",
            &["route", "status"],
        );
        let token_requests = counter_vec(
            "tokengate_token_requests_total",
            "Token-endpoint exchanges, by route and outcome.",
            &["route", "outcome"],
        );
        let token_cache = counter_vec(
            "tokengate_token_cache_total",
            "Token selections served from the session (hit) or needing an exchange (miss).",
            &["result"],
        );
        let session_rejected = counter_vec(
            "tokengate_session_rejected_total",
            "Session cookies present but unusable, by reason.",
            &["reason"],
        );
        let sessions_cleared = counter_vec(
            "tokengate_sessions_cleared_total",
            "Sessions ended by the gateway, by reason.",
            &["reason"],
        );
        let reloads = counter_vec(
            "tokengate_config_reloads_total",
            "Configuration reloads, by result.",
            &["result"],
        );
        let upstream_errors = counter_vec(
            "tokengate_upstream_errors_total",
            "Requests whose upstream failed, by route and error (upstream_unavailable, upstream_timeout).",
            &["route", "error"],
        );
        let token_duration = HistogramVec::new(
            HistogramOpts::new(
                "tokengate_token_request_duration_seconds",
                "Latency of token-endpoint exchanges.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )
        .expect("static metric definition is valid");
        registry
            .register(Box::new(token_duration.clone()))
            .expect("metric names are unique");
        let refresh_coalesced = IntCounter::new(
            "tokengate_refresh_coalesced_total",
            "Requests served by a token another request of the same session had just obtained.",
        )
        .expect("static metric definition is valid");
        registry
            .register(Box::new(refresh_coalesced.clone()))
            .expect("metric names are unique");
        let in_flight = IntGauge::new(
            "tokengate_requests_in_flight",
            "Proxy requests being served now (graceful shutdown waits for them).",
        )
        .expect("static metric definition is valid");
        registry
            .register(Box::new(in_flight.clone()))
            .expect("metric names are unique");
        // Series that exist from the start, so that `rate()` and absence alerts work before the
        // first event (a counter that appears only on its first increment hides that increment).
        for result in ["hit", "miss"] {
            token_cache.with_label_values(&[result]);
        }
        for result in [RELOAD_SUCCESS, RELOAD_REJECTED] {
            reloads.with_label_values(&[result]);
        }
        Metrics {
            registry,
            in_flight,
            requests,
            token_requests,
            token_cache,
            token_duration,
            refresh_coalesced,
            session_rejected,
            sessions_cleared,
            reloads,
            upstream_errors,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_every_contract_metric_with_its_labels() {
        let m = Metrics::new();
        m.requests.with_label_values(&["orders", "200"]).inc();
        m.token_requests
            .with_label_values(&["orders", "success"])
            .inc();
        m.token_duration
            .with_label_values(&["orders"])
            .observe(0.02);
        m.refresh_coalesced.inc();
        m.session_rejected.with_label_values(&["tampered"]).inc();
        m.sessions_cleared.with_label_values(&["logout"]).inc();
        m.reloads.with_label_values(&[RELOAD_REJECTED]).inc();
        m.in_flight.inc();
        let text = m.render();
        for line in [
            r#"tokengate_requests_total{route="orders",status="200"} 1"#,
            r#"tokengate_token_requests_total{outcome="success",route="orders"} 1"#,
            r#"tokengate_token_cache_total{result="hit"} 0"#,
            r#"tokengate_token_cache_total{result="miss"} 0"#,
            r#"tokengate_token_request_duration_seconds_bucket{route="orders",le="0.025"} 1"#,
            r#"tokengate_token_request_duration_seconds_count{route="orders"} 1"#,
            "tokengate_refresh_coalesced_total 1",
            r#"tokengate_session_rejected_total{reason="tampered"} 1"#,
            r#"tokengate_sessions_cleared_total{reason="logout"} 1"#,
            r#"tokengate_config_reloads_total{result="rejected"} 1"#,
            r#"tokengate_config_reloads_total{result="success"} 0"#,
            "tokengate_requests_in_flight 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
    }

    #[test]
    fn families_carry_help_and_type() {
        let m = Metrics::new();
        m.token_duration.with_label_values(&["orders"]).observe(1.0);
        let text = m.render();
        assert!(text.contains("# TYPE tokengate_token_request_duration_seconds histogram"));
        assert!(text.contains("# TYPE tokengate_requests_in_flight gauge"));
        assert!(text.contains("# HELP tokengate_config_reloads_total Configuration reloads"));
    }
}
