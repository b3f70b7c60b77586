//! TLS to upstreams (docs/reference.md#tls-and-http2): a private CA (`upstream_ca`), the name
//! verified (`upstream_sni`), a client certificate for an upstream that demands one
//! (`upstream_client_cert`), and HTTP/2 to an HTTP/2-only upstream (`upstream_h2`). Every
//! certificate is made by the test; a certificate the gateway cannot verify is a
//! `502 {"error":"upstream_unavailable","detail":"tls"}`, counted and logged with the route,
//! never a plaintext retry.

use super::tls_support::{json, Speaks, TestCa, TlsUpstream};
use crate::support::*;
use serde_json::json;

/// GET `path` from the gateway: (status, JSON body).
async fn get_json(gw: &Gateway, path: &str, cookie: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = client().get(gw.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, json(&resp.text().await.unwrap()))
}

fn tls_refusal() -> serde_json::Value {
    json!({"error": "upstream_unavailable", "detail": "tls"})
}

/// The value of the sample `name{labels}` in a Prometheus text, 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_ca_verifies_the_upstream_and_an_unknown_ca_is_a_502_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("private upstream CA");
    let other = TestCa::new("some other CA");
    let up = TlsUpstream::start(
        "billing",
        &ca.leaf(&["127.0.0.1", "billing.internal"]),
        Speaks::Http1,
        None,
    )
    .await;
    let ca_file = ca.write(dir.path(), "ca.pem");
    let other_file = other.write(dir.path(), "other.pem");
    let provider = MockProvider::start().await;
    let routes = route(
        "private",
        "/private",
        &up.url(),
        &[
            "auth: none",
            &format!("upstream_ca: \"{}\"", ca_file.display()),
        ],
    ) + &route(
        "wrong_ca",
        "/wrong_ca",
        &up.url(),
        &[
            "auth: none",
            &format!("upstream_ca: \"{}\"", other_file.display()),
        ],
    ) + &route("system_roots", "/system", &up.url(), &["auth: none"]);
    let cfg = ConfigBuilder::new(&provider, &routes).with_admin();
    let gw = Gateway::start(&cfg.build());

    let (status, body) = get_json(&gw, "/private/x", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["upstream"], "billing");
    assert_eq!(body["version"], "HTTP/1.1");

    for path in ["/wrong_ca/x", "/system/x", "/wrong_ca/y"] {
        let (status, body) = get_json(&gw, path, None).await;
        assert_eq!((status, body), (502, tls_refusal()), "{path}");
    }
    assert_eq!(
        up.requests(),
        1,
        "no request reached the upstream unverified"
    );

    let metrics = client()
        .get(cfg.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tls_errors = |route: &str| {
        sample(
            &metrics,
            &format!("tokengate_upstream_errors_total{{error=\"tls\",route=\"{route}\"}}"),
        )
    };
    assert_eq!(tls_errors("wrong_ca"), 2.0, "{metrics}");
    assert_eq!(tls_errors("system_roots"), 1.0, "{metrics}");
    let logs = gw.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("upstream TLS") && l.contains("wrong_ca")),
        "a log line names the route: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_name_is_verified_and_upstream_sni_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("private upstream CA");
    // The certificate names a DNS name, not the address the route dials.
    let up = TlsUpstream::start(
        "ledger",
        &ca.leaf(&["ledger.internal"]),
        Speaks::Http1,
        None,
    )
    .await;
    let ca_line = format!(
        "upstream_ca: \"{}\"",
        ca.write(dir.path(), "ca.pem").display()
    );
    let provider = MockProvider::start().await;
    let routes = route(
        "by_address",
        "/address",
        &up.url(),
        &["auth: none", &ca_line],
    ) + &route(
        "by_name",
        "/name",
        &up.url(),
        &["auth: none", &ca_line, "upstream_sni: ledger.internal"],
    ) + &route(
        "other_name",
        "/other",
        &up.url(),
        &["auth: none", &ca_line, "upstream_sni: other.internal"],
    );
    let gw = Gateway::start(&config(&provider, &routes));

    assert_eq!(
        get_json(&gw, "/address/x", None).await,
        (502, tls_refusal())
    );
    assert_eq!(get_json(&gw, "/other/x", None).await, (502, tls_refusal()));
    let (status, body) = get_json(&gw, "/name/x", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["upstream"], "ledger");
    assert_eq!(up.requests(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_that_demands_a_client_certificate_gets_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("private upstream CA");
    let clients = TestCa::new("client CA");
    let up = TlsUpstream::start(
        "vault",
        &ca.leaf(&["127.0.0.1"]),
        Speaks::Http1,
        Some(clients.roots()),
    )
    .await;
    let ca_line = format!(
        "upstream_ca: \"{}\"",
        ca.write(dir.path(), "ca.pem").display()
    );
    let (cert, key) = clients.leaf(&["tokengate"]).write(dir.path(), "client");
    let (cert_other, key_other) = TestCa::new("unknown client CA")
        .leaf(&["tokengate"])
        .write(dir.path(), "stranger");
    let provider = MockProvider::start().await;
    let client_cert = |c: &std::path::Path, k: &std::path::Path| {
        format!(
            "upstream_client_cert: {{ cert: \"{}\", key: \"{}\" }}",
            c.display(),
            k.display()
        )
    };
    let routes = route(
        "mtls",
        "/mtls",
        &up.url(),
        &["auth: none", &ca_line, &client_cert(&cert, &key)],
    ) + &route(
        "stranger",
        "/stranger",
        &up.url(),
        &[
            "auth: none",
            &ca_line,
            &client_cert(&cert_other, &key_other),
        ],
    ) + &route(
        "anonymous",
        "/anonymous",
        &up.url(),
        &["auth: none", &ca_line],
    );
    let gw = Gateway::start(&config(&provider, &routes));

    let (status, body) = get_json(&gw, "/mtls/x", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_cert"], true);
    // The same upstream, reached by routes without (or with a foreign) certificate: the
    // connection the mtls route opened is not reused for them.
    for path in ["/anonymous/x", "/stranger/x"] {
        let (status, body) = get_json(&gw, path, None).await;
        assert_eq!((status, body), (502, tls_refusal()), "{path}");
    }
    assert_eq!(up.requests(), 1);
    assert!(up.handshake_failures() >= 2, "the upstream refused them");
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_h2_speaks_http2_to_an_http2_only_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("private upstream CA");
    let up = TlsUpstream::start("grpc", &ca.leaf(&["127.0.0.1"]), Speaks::Http2Only, None).await;
    let ca_line = format!(
        "upstream_ca: \"{}\"",
        ca.write(dir.path(), "ca.pem").display()
    );
    let provider = MockProvider::start().await;
    let routes = route(
        "grpc",
        "/grpc",
        &up.url(),
        &[
            &ca_line,
            "upstream_h2: true",
            "audience: \"https://grpc.example\"",
        ],
    ) + &route("h1", "/h1", &up.url(), &["auth: none", &ca_line]);
    let gw = Gateway::start(&config(&provider, &routes));
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));

    for i in 0..3 {
        let (status, body) = get_json(&gw, &format!("/grpc/call/{i}"), Some(&cookie)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["version"], "HTTP/2.0");
        assert_eq!(body["path"], format!("/grpc/call/{i}"));
        let bearer = body["authorization"].as_str().unwrap_or_default();
        let claims = provider::jwt_claims(bearer.trim_start_matches("Bearer ")).unwrap();
        assert_eq!(claims["aud"], "https://grpc.example");
    }
    // Without upstream_h2 the gateway offers only HTTP/1.1, which this upstream refuses.
    assert_eq!(get_json(&gw, "/h1/x", None).await, (502, tls_refusal()));
    assert_eq!(up.requests(), 3);
}
