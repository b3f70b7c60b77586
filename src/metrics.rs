//! The gateway's Prometheus metrics, in a registry of their own (pingora registers its own in the
//! default one). Every failure the gateway answers is counted here with the route and the error
//! code, so an operator can alert on it without reading logs.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

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
        Metrics {
            registry,
            requests,
            token_requests,
            token_cache,
            token_duration,
            refresh_coalesced,
            session_rejected,
            sessions_cleared,
            reloads,
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
