//! Operations end to end (docs/reference.md#admin-listener, #reload-and-shutdown), against the real
//! binary: the admin listener before and after provider discovery, metrics moving as requests are
//! served, reloading `routes.yaml` (on a file change and on `SIGHUP`, and refusing a broken file),
//! and `SIGTERM` letting a slow request finish before the process exits 0.

// A sibling directory, not `tests/fixtures.rs`, so that cargo does not take it for a test target.
#[path = "ops/deploy.rs"]
mod deploy;
#[path = "ops/fixtures.rs"]
mod fixtures;
#[path = "ops/ingress_nginx.rs"]
mod ingress_nginx;
mod support;

use fixtures::{
    admin_line, eventually, get, metric, metric_becomes, upstream_of, with_server, FlakyDiscovery,
    SlowUpstream,
};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::{
    client, config, cookie_for, free_port, route, session_for, set_cookies, ConfigBuilder,
    EchoUpstream, Gateway, MockProvider, COOKIE,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints_before_and_after_discovery() {
    let provider = MockProvider::start().await;
    let discovery = FlakyDiscovery::start().await;
    let echo = EchoUpstream::start().await;
    let mut builder = ConfigBuilder::new(&provider, &route("api", "/api", &echo.url(), &[]));
    builder.issuer = format!("http://{}", discovery.addr);
    let admin = free_port();
    let gw = Gateway::start(&with_server(&builder.build(), &[admin_line(admin)]));
    let base = format!("http://127.0.0.1:{admin}");

    assert!(
        eventually(Duration::from_secs(10), || async {
            get(&format!("{base}/healthz")).await.0 == 200
        })
        .await,
        "admin listener up; logs:\n{}",
        gw.logs()
    );
    assert_eq!(get(&format!("{base}/healthz")).await, (200, "ok\n".into()));
    assert_eq!(
        get(&format!("{base}/readyz")).await,
        (503, "config: ok\nprovider_discovery: pending\n".into())
    );
    let metrics = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = metrics.text().await.unwrap();
    assert!(text.contains("tokengate_token_cache_total{result=\"miss\"} 0"));
    assert_eq!(get(&format!("{base}/other")).await.0, 404);

    discovery.up.store(true, Ordering::SeqCst);
    assert!(
        eventually(Duration::from_secs(15), || async {
            get(&format!("{base}/readyz")).await.0 == 200
        })
        .await,
        "ready after discovery; logs:\n{}",
        gw.logs()
    );
    assert_eq!(
        get(&format!("{base}/readyz")).await,
        (200, "config: ok\nprovider_discovery: ok\n".into())
    );
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
}

/// A provider that accepts the discovery request and never answers: each attempt is bounded
/// (`provider.timeout`), so a login answers `502` promptly instead of waiting for ever behind
/// the stalled fetch; `/readyz` says pending, the failures are counted, and discovery is retried
/// with backoff until the provider answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_discovery_is_bounded_counted_and_retried() {
    let provider = MockProvider::start().await;
    let discovery = FlakyDiscovery::start().await;
    discovery.stall.store(true, Ordering::SeqCst);
    discovery.up.store(true, Ordering::SeqCst);
    let echo = EchoUpstream::start().await;
    let mut builder = ConfigBuilder::new(&provider, &route("api", "/api", &echo.url(), &[]));
    builder.issuer = format!("http://{}", discovery.addr);
    let admin = free_port();
    let gw = Gateway::start(&with_server(&builder.build(), &[admin_line(admin)]));
    let base = format!("http://127.0.0.1:{admin}");
    assert!(
        eventually(Duration::from_secs(10), || async {
            get(&format!("{base}/healthz")).await.0 == 200
        })
        .await,
        "admin listener up; logs:\n{}",
        gw.logs()
    );

    let started = Instant::now();
    let (status, _) = get(&gw.url("/auth/login")).await;
    assert_eq!(status, 502, "logs:\n{}", gw.logs());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(get(&format!("{base}/readyz")).await.0, 503);
    assert!(
        eventually(Duration::from_secs(10), || async {
            metric(admin, "tokengate_discovery_failures_total")
                .await
                .is_some_and(|n| n >= 2.0)
        })
        .await,
        "failures counted"
    );

    discovery.stall.store(false, Ordering::SeqCst);
    assert!(
        eventually(Duration::from_secs(20), || async {
            get(&format!("{base}/readyz")).await.0 == 200
        })
        .await,
        "ready once the provider answers; logs:\n{}",
        gw.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_as_requests_are_served() {
    let provider = MockProvider::start().await;
    let echo = EchoUpstream::start().await;
    let orders = route(
        "orders",
        "/api/orders",
        &echo.url(),
        &[
            "audience: \"https://orders.example\"",
            "scope: \"read:orders\"",
        ],
    );
    let admin = free_port();
    let gw = Gateway::start(&with_server(
        &config(&provider, &orders),
        &[admin_line(admin)],
    ));
    assert!(
        eventually(Duration::from_secs(10), || async {
            metric(admin, "tokengate_requests_in_flight").await == Some(0.0)
        })
        .await
    );
    assert_eq!(
        metric(
            admin,
            r#"tokengate_requests_total{route="orders",status="200"}"#
        )
        .await,
        None
    );

    let http = client();
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    // A miss: one token-endpoint exchange.
    let first = http
        .get(gw.url("/api/orders/1"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let fresh = support::cookie_header_from(&set_cookies(&first));
    assert!(fresh.starts_with(&format!("{COOKIE}=")), "{fresh}");
    // A hit, from the cookie the first response set.
    let second = http
        .get(gw.url("/api/orders/2"))
        .header("cookie", &fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    // No session, a broken cookie, no route.
    let anonymous = http.get(gw.url("/api/orders/3")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let broken = http
        .get(gw.url("/api/orders/4"))
        .header("cookie", format!("{COOKIE}=not-a-sealed-value"))
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 401);
    assert_eq!(
        http.get(gw.url("/nowhere")).send().await.unwrap().status(),
        404
    );
    let logout = http
        .get(gw.url("/auth/logout"))
        .header("cookie", &fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 302);

    for (series, value) in [
        (
            r#"tokengate_requests_total{route="orders",status="200"}"#,
            2.0,
        ),
        (
            r#"tokengate_requests_total{route="orders",status="401"}"#,
            2.0,
        ),
        (r#"tokengate_requests_total{route="-",status="404"}"#, 1.0),
        (r#"tokengate_requests_total{route="-",status="302"}"#, 1.0),
        (
            r#"tokengate_token_requests_total{grant="refresh_token",outcome="success",route="orders"}"#,
            1.0,
        ),
        (r#"tokengate_token_cache_total{result="miss"}"#, 1.0),
        (r#"tokengate_token_cache_total{result="hit"}"#, 1.0),
        (
            r#"tokengate_token_request_duration_seconds_count{grant="refresh_token",route="orders"}"#,
            1.0,
        ),
        (
            r#"tokengate_session_rejected_total{reason="malformed"}"#,
            1.0,
        ),
        (r#"tokengate_sessions_cleared_total{reason="logout"}"#, 1.0),
        ("tokengate_refresh_coalesced_total", 0.0),
        ("tokengate_requests_in_flight", 0.0),
    ] {
        metric_becomes(admin, series, value).await;
    }
    assert_eq!(provider.call_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_swaps_the_route_and_a_broken_one_keeps_it() {
    let provider = MockProvider::start().await;
    let (a, b) = (
        EchoUpstream::named("a").await,
        EchoUpstream::named("b").await,
    );
    let admin = free_port();
    let builder = ConfigBuilder::new(&provider, "");
    let yaml_for = |upstream: &str| {
        let mut b = builder.clone();
        b.routes_yaml = route("api", "/api", upstream, &["auth: none"]);
        with_server(&b.build(), &[admin_line(admin)])
    };
    let gw = Gateway::start(&yaml_for(&a.url()));
    assert_eq!(upstream_of(&gw, "/api/x").await, "a");

    std::fs::write(gw.config_path(), yaml_for(&b.url())).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            upstream_of(&gw, "/api/x").await == "b"
        })
        .await,
        "the new upstream serves after the file changed; logs:\n{}",
        gw.logs()
    );
    metric_becomes(
        admin,
        r#"tokengate_config_reloads_total{result="success"}"#,
        1.0,
    )
    .await;
    assert!(gw.logs().contains("config reloaded"));

    // A file that does not validate: rejected with its problem, the route keeps serving.
    let broken = yaml_for(&b.url()).replace(&b.url(), "ftp://127.0.0.1:1");
    std::fs::write(gw.config_path(), broken).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            gw.logs()
                .contains("reload rejected: invalid configuration: routes[0].upstream")
        })
        .await,
        "logs:\n{}",
        gw.logs()
    );
    metric_becomes(
        admin,
        r#"tokengate_config_reloads_total{result="rejected"}"#,
        1.0,
    )
    .await;
    assert_eq!(upstream_of(&gw, "/api/x").await, "b");

    // A valid file that moves the listener needs a restart: rejected, nothing changes.
    let moved = yaml_for(&a.url()).replace(
        &format!("listen: \"127.0.0.1:{}\"", gw.port()),
        &format!("listen: \"127.0.0.1:{}\"", free_port()),
    );
    std::fs::write(gw.config_path(), moved).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            gw.logs()
                .contains("reload rejected: server.listen changed; restart to apply")
        })
        .await,
        "logs:\n{}",
        gw.logs()
    );
    metric_becomes(
        admin,
        r#"tokengate_config_reloads_total{result="rejected"}"#,
        2.0,
    )
    .await;
    assert_eq!(upstream_of(&gw, "/api/x").await, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_at_once() {
    let provider = MockProvider::start().await;
    let (a, b) = (
        EchoUpstream::named("a").await,
        EchoUpstream::named("b").await,
    );
    let builder = ConfigBuilder::new(&provider, "");
    let yaml_for = |upstream: &str| {
        let mut b = builder.clone();
        b.routes_yaml = route("api", "/api", upstream, &["auth: none"]);
        b.build()
    };
    let gw = Gateway::start(&yaml_for(&a.url()));
    assert_eq!(upstream_of(&gw, "/api/x").await, "a");

    std::fs::write(gw.config_path(), yaml_for(&b.url())).unwrap();
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(5), || async {
            upstream_of(&gw, "/api/x").await == "b"
        })
        .await,
        "logs:\n{}",
        gw.logs()
    );
    let logs = gw.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("config reloaded") && l.contains("SIGHUP")),
        "the SIGHUP did the reload (the file poll waits for the change to settle); logs:\n{logs}"
    );
}

/// Sessions opened from cookies are kept for the next request (`session::opened`); taking a key
/// out of `session.keys` must still end every cookie it sealed at the reload, cached or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_removed_by_a_reload_ends_its_cookies_at_once() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let yaml = config(&provider, &route("api", "/api", &up.url(), &[]));
    let gw = Gateway::start(&yaml);
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    let status = || async {
        client()
            .get(gw.url("/api/x"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(status().await, 200);
    assert_eq!(status().await, 200, "served from the opened session");

    let other_key = format!("{}A", "b".repeat(42));
    let rotated = yaml.replace(&support::cookie::test_key_b64(), &other_key);
    assert_ne!(rotated, yaml);
    std::fs::write(gw.config_path(), rotated).unwrap();
    gw.signal("HUP");
    assert!(
        eventually(Duration::from_secs(5), || async { status().await == 401 }).await,
        "the old key's cookie still opens after the reload; logs:\n{}",
        gw.logs()
    );
    assert_eq!(
        up.count(),
        2,
        "only the two requests before the reload went upstream"
    );
}

/// Starts a gateway in front of `slow` with `grace`, sends one request and `SIGTERM` once the
/// upstream is working on it. Returns the gateway, the request's task and when TERM was sent.
async fn terminate_during_a_request(
    provider: &MockProvider,
    slow: &SlowUpstream,
    grace: &str,
) -> (
    Gateway,
    tokio::task::JoinHandle<Result<(u16, String), String>>,
    Instant,
) {
    let yaml = with_server(
        &config(
            provider,
            &route("slow", "/slow", &slow.url(), &["auth: none"]),
        ),
        &[format!("grace_period: {grace}")],
    );
    let gw = Gateway::start(&yaml);
    let url = gw.url("/slow/report");
    let request = tokio::spawn(async move {
        let resp = client().get(url).send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(|e| e.to_string())?))
    });
    assert!(
        eventually(Duration::from_secs(10), || async {
            slow.started.load(Ordering::SeqCst) == 1
        })
        .await,
        "the request reached the upstream"
    );
    gw.signal("TERM");
    (gw, request, Instant::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_0() {
    let provider = MockProvider::start().await;
    let slow = SlowUpstream::start(Duration::from_secs(2)).await;
    let (mut gw, request, sent) = terminate_during_a_request(&provider, &slow, "20s").await;

    // Stops accepting at once.
    let port = gw.port();
    assert!(
        eventually(Duration::from_secs(2), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
        })
        .await,
        "the listener still accepts after SIGTERM"
    );
    assert_eq!(
        request.await.unwrap(),
        Ok((200, "slow done".to_owned())),
        "logs:\n{}",
        gw.logs()
    );
    let status = gw.wait_exit(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "logs:\n{}",
        gw.logs()
    );
    // Exited once drained, not after the 20 s grace period.
    assert!(
        sent.elapsed() < Duration::from_secs(8),
        "{:?}",
        sent.elapsed()
    );
    assert!(gw.logs().contains("requests in flight finished; exiting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_longer_than_the_grace_period_is_cut_and_the_exit_is_still_0() {
    let provider = MockProvider::start().await;
    let slow = SlowUpstream::start(Duration::from_secs(30)).await;
    let (mut gw, request, sent) = terminate_during_a_request(&provider, &slow, "1s").await;

    let status = gw.wait_exit(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "logs:\n{}",
        gw.logs()
    );
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(request.await.unwrap().is_err(), "the cut request fails");
    assert!(gw
        .logs()
        .contains("grace period over with requests still in flight; exiting"));
}
