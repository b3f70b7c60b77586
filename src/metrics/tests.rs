use super::*;

#[test]
fn exposes_every_documented_metric_with_its_labels() {
    let m = Metrics::new();
    m.requests.with_label_values(&["orders", "200"]).inc();
    m.token_request(
        "orders",
        "refresh_token",
        "success",
        std::time::Duration::from_millis(20),
    );
    m.refresh_coalesced.inc();
    m.session_rejected.with_label_values(&["tampered"]).inc();
    m.sessions_cleared.with_label_values(&["logout"]).inc();
    m.reloads.with_label_values(&[RELOAD_REJECTED]).inc();
    m.in_flight.inc();
    let text = m.render();
    for line in [
        r#"tokengate_requests_total{route="orders",status="200"} 1"#,
        r#"tokengate_token_requests_total{grant="refresh_token",outcome="success",route="orders"} 1"#,
        r#"tokengate_token_cache_total{result="hit"} 0"#,
        r#"tokengate_token_cache_total{result="miss"} 0"#,
        r#"tokengate_token_request_duration_seconds_bucket{grant="refresh_token",route="orders",le="0.025"} 1"#,
        r#"tokengate_token_request_duration_seconds_count{grant="refresh_token",route="orders"} 1"#,
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
    m.token_duration
        .with_label_values(&["orders", "client_credentials"])
        .observe(1.0);
    let text = m.render();
    assert!(text.contains("# TYPE tokengate_token_request_duration_seconds histogram"));
    assert!(text.contains("# TYPE tokengate_requests_in_flight gauge"));
    assert!(text.contains("# HELP tokengate_config_reloads_total Configuration reloads"));
}
