//! The gateway's Prometheus metrics, in a registry of their own (pingora registers its own in the
//! default one). Every failure the gateway answers is counted here with the route and the error
//! code, so an operator can alert on it without reading logs.

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use std::time::Duration;

/// A labelled counter's name, help text and label names.
type Spec = (&'static str, &'static str, &'static [&'static str]);

const REQUESTS: Spec = (
    "tokengate_requests_total",
    "Requests answered, by route and HTTP status.",
    &["route", "status"],
);

const TOKEN_REQUESTS: Spec = (
    "tokengate_token_requests_total",
    "Token-endpoint requests, by route, grant and outcome.",
    &["route", "grant", "outcome"],
);

const TOKEN_CACHE: Spec = (
    "tokengate_token_cache_total",
    "Token selections served from the session (hit) or needing an exchange (miss).",
    &["result"],
);

const SESSION_REJECTED: Spec = (
    "tokengate_session_rejected_total",
    "Session cookies present but unusable, by reason.",
    &["reason"],
);

const SESSIONS_CLEARED: Spec = (
    "tokengate_sessions_cleared_total",
    "Sessions ended by the gateway, by reason.",
    &["reason"],
);

const REVOCATIONS: Spec = (
    "tokengate_revocations_total",
    "Refresh-token revocations at the provider, by why and how they ended.",
    &["reason", "result"],
);

const RELOADS: Spec = (
    "tokengate_config_reloads_total",
    "Configuration reloads, by result.",
    &["result"],
);

const UPSTREAM_ERRORS: Spec = (
    "tokengate_upstream_errors_total",
    "Requests whose upstream failed, by route and error (upstream_unavailable, upstream_timeout, tls).",
    &["route", "error"],
);

const POLICY_DENIED: Spec = (
    "tokengate_policy_denied_total",
    "Requests refused by a route's require: (forbidden or step-up), by route.",
    &["route"],
);

const ASSERTION_FAILED: Spec = (
    "tokengate_assertion_failed_total",
    "Identity assertions that could not be signed, by route.",
    &["route"],
);

const REFUSED: Spec = (
    "tokengate_requests_refused_total",
    "Requests refused for their framing or headers before reaching a route, by reason (the 400 answer's detail).",
    &["reason"],
);

const BROKER_EVENTS: Spec = (
    "tokengate_broker_events_total",
    "Rare events of the per-session token coordination, by event (docs/operations.md).",
    &["event"],
);

const BEARER: Spec = (
    "tokengate_bearer_total",
    "Requests presenting their own Bearer token on a bearer: accept route, by route and result (accepted, invalid, insufficient_scope, forbidden).",
    &["route", "result"],
);

const BEARER_CACHE: Spec = (
    "tokengate_bearer_cache_total",
    "Client Bearer tokens found verified in the cache (hit) or needing a signature verification (miss).",
    &["result"],
);

const TOKENS_DROPPED: Spec = (
    "tokengate_session_tokens_dropped_total",
    "Additional token sets dropped from a session before their expiry, by reason (cookie_limit: to fit limits.max_cookie_chunks and max_cookie_bytes).",
    &["reason"],
);

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
    /// Refresh-token revocations (`logout`, `new_login`) by result (`revoked`, `refused`,
    /// `failed`).
    pub revocations: IntCounterVec,
    pub reloads: IntCounterVec,
    pub upstream_errors: IntCounterVec,
    /// Requests a route's `require:` refused (403 forbidden or a 401 step-up), by route.
    pub policy_denied: IntCounterVec,
    /// Identity assertions that could not be signed, by route (the request is refused).
    pub assertion_failed: IntCounterVec,
    /// Requests refused for their framing or headers before reaching a route, by reason.
    pub refused: IntCounterVec,
    /// Provider discovery fetches that failed or timed out (`/readyz` is not ready until one works).
    pub discovery_failures: IntCounter,
    /// Events of the per-session coordination an operator must hear about (`event` label).
    pub broker_events: IntCounterVec,
    /// Client Bearer tokens on `bearer: accept` routes, by route and result.
    pub bearer: IntCounterVec,
    /// Client Bearer verifications avoided (hit) or done (miss).
    pub bearer_cache: IntCounterVec,
    /// Token sets dropped from a session early, by reason (`cookie_limit`).
    pub tokens_dropped: IntCounterVec,
    /// Proxy requests between their first byte and their log line; what `SIGTERM` waits for.
    pub in_flight: IntGauge,
    /// The listener certificate's expiry and its reloads: registered by [`Metrics::enable_tls`]
    /// only when the listener has TLS, so that a plain listener shows no expiry of 0.
    pub tls_cert_expiry: IntGauge,
    pub tls_cert_reloads: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |(name, help, labels): Spec| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .expect("static metric definition is valid");
            register(&registry, c)
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("static metric definition is valid");
            register(&registry, c)
        };
        let in_flight = IntGauge::new(
            "tokengate_requests_in_flight",
            "Proxy requests being served now (graceful shutdown waits for them).",
        );
        let valid = "static metric definition is valid";
        let tls_cert_expiry = IntGauge::new(
            "tokengate_tls_cert_expiry_seconds",
            "When the proxy listener's certificate expires, in seconds since the Unix epoch.",
        );
        let tls_cert_reloads = IntCounterVec::new(
            Opts::new(
                "tokengate_tls_cert_reloads_total",
                "Reloads of the proxy listener's certificate, by result.",
            ),
            &["result"],
        );
        let metrics = Metrics {
            requests: counter_vec(REQUESTS),
            token_requests: counter_vec(TOKEN_REQUESTS),
            token_cache: counter_vec(TOKEN_CACHE),
            session_rejected: counter_vec(SESSION_REJECTED),
            sessions_cleared: counter_vec(SESSIONS_CLEARED),
            revocations: counter_vec(REVOCATIONS),
            reloads: counter_vec(RELOADS),
            upstream_errors: counter_vec(UPSTREAM_ERRORS),
            policy_denied: counter_vec(POLICY_DENIED),
            assertion_failed: counter_vec(ASSERTION_FAILED),
            refused: counter_vec(REFUSED),
            broker_events: counter_vec(BROKER_EVENTS),
            bearer: counter_vec(BEARER),
            bearer_cache: counter_vec(BEARER_CACHE),
            tokens_dropped: counter_vec(TOKENS_DROPPED),
            token_duration: register(&registry, token_duration()),
            refresh_coalesced: counter(
                "tokengate_refresh_coalesced_total",
                "Requests served by a token another request of the same session had just obtained.",
            ),
            in_flight: register(&registry, in_flight.expect(valid)),
            tls_cert_expiry: tls_cert_expiry.expect(valid),
            tls_cert_reloads: tls_cert_reloads.expect(valid),
            discovery_failures: counter(
                "tokengate_discovery_failures_total",
                "Failed or timed-out fetches of the provider's discovery document.",
            ),
            registry,
        };
        metrics.start_series();
        metrics
    }

    /// Series that exist from the start, so that `rate()` and absence alerts work before the
    /// first event (a counter that appears only on its first increment hides that increment).
    fn start_series(&self) {
        for result in ["hit", "miss"] {
            self.token_cache.with_label_values(&[result]);
            self.bearer_cache.with_label_values(&[result]);
        }
        for result in [RELOAD_SUCCESS, RELOAD_REJECTED] {
            self.reloads.with_label_values(&[result]);
        }
    }

    /// Registers the listener certificate's metrics (a TLS listener); once per process.
    pub fn enable_tls(&self) {
        let _ = self
            .registry
            .register(Box::new(self.tls_cert_expiry.clone()));
        let _ = self
            .registry
            .register(Box::new(self.tls_cert_reloads.clone()));
        for result in [RELOAD_SUCCESS, RELOAD_REJECTED] {
            self.tls_cert_reloads.with_label_values(&[result]);
        }
    }

    /// Counts one token-endpoint request of `grant` (`refresh_token`, `token_exchange`,
    /// `client_credentials`) and its latency.
    pub fn token_request(&self, route: &str, grant: &str, outcome: &str, elapsed: Duration) {
        self.token_duration
            .with_label_values(&[route, grant])
            .observe(elapsed.as_secs_f64());
        self.token_requests
            .with_label_values(&[route, grant, outcome])
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// `tokengate_token_request_duration_seconds`, by route and grant.
fn token_duration() -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(
            "tokengate_token_request_duration_seconds",
            "Latency of token-endpoint requests.",
        )
        .buckets(vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        &["route", "grant"],
    )
    .expect("static metric definition is valid")
}

/// Adds `metric` to `registry` and hands it back.
fn register<M: Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
