//! TLS on the proxy listener (docs/reference.md#tls-and-http2): HTTP/2 and HTTP/1.1 by ALPN,
//! the concurrency guarantees (docs/reference.md#concurrency-and-rotation) for the streams of
//! one HTTP/2 connection, WebSockets over HTTP/1.1, the certificate re-read on `SIGHUP` and on a
//! change of its files (a cert-manager style `..data` symlink swap) without dropping a
//! connection, and `check` on the certificate files. Certificates are made by the test.

use super::tls_support::{connect, h2_connection, h2_get, json, Leaf, TestCa};
use crate::support::gateway::run_cli;
use crate::support::*;
use futures_util::{SinkExt, StreamExt};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const AUDIENCES: [&str; 3] = [
    "https://a.example",
    "https://b.example",
    "https://c.example",
];

/// A CA, the gateway's certificate for `localhost` and 127.0.0.1 in `dir`, and the config
/// builder pointing at it.
fn tls_setup(dir: &Path, provider: &MockProvider, routes: &str) -> (TestCa, ConfigBuilder) {
    let ca = TestCa::new("gateway test CA");
    let (cert, key) = ca.leaf(&["localhost", "127.0.0.1"]).write(dir, "tls");
    (ca, ConfigBuilder::new(provider, routes).tls(&cert, &key))
}

fn audience_routes(up: &EchoUpstream) -> String {
    AUDIENCES
        .iter()
        .enumerate()
        .map(|(i, aud)| {
            route(
                &format!("r{i}"),
                &format!("/api/{i}"),
                &up.url(),
                &[&format!("audience: \"{aud}\""), "scope: \"read\""],
            )
        })
        .collect()
}

/// 30 streams on ONE HTTP/2 connection, needing three audiences, rotation on and a slow token
/// endpoint so that they overlap: exactly three exchanges, no refresh token presented twice,
/// every stream answered 200 with its own audience's token.
#[tokio::test(flavor = "multi_thread")]
async fn thirty_streams_of_one_http2_connection_make_three_exchanges() {
    let dir = tempfile::tempdir().unwrap();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let (ca, cfg) = tls_setup(dir.path(), &provider, &audience_routes(&up));
    let gw = Gateway::start(&cfg.max_cached(8).build());
    provider.set_fault(Fault::Latency(Duration::from_millis(150)));
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));

    let conn = h2_connection(gw.port(), &ca).await;
    let started = Instant::now();
    let streams = (0..30).map(|i| {
        let (conn, cookie) = (conn.clone(), cookie.clone());
        let port = gw.port();
        tokio::spawn(async move {
            let r = h2_get(&conn, port, &format!("/api/{}/x{i}", i % 3), &cookie).await;
            (i % 3, r, started.elapsed())
        })
    });
    let results = futures_util::future::join_all(streams).await;
    for result in results {
        let (aud, r, _) = result.expect("stream task");
        assert_eq!(r.status, 200, "{}", r.body);
        let body = json(&r.body);
        let bearer = body["headers"]["authorization"][0].as_str().unwrap();
        let claims = provider::jwt_claims(bearer.trim_start_matches("Bearer ")).unwrap();
        assert_eq!(claims["aud"], AUDIENCES[aud], "stream for audience {aud}");
        assert_eq!(body["headers"]["x-forwarded-proto"][0], "https");
        for sc in &r.set_cookies {
            assert!(sc.contains("; Secure"), "{sc}");
        }
    }
    assert_eq!(provider.call_count(), 3, "one exchange per audience");
    assert_eq!(
        provider.reuse_detected(),
        0,
        "no refresh token presented twice"
    );
    assert_eq!(up.count(), 30);
}

/// HTTP/1.1 is chosen by ALPN too (and without ALPN); the session cookie defaults to the
/// `__Host-` name with `Secure`.
#[tokio::test(flavor = "multi_thread")]
async fn http1_by_alpn_and_a_secure_host_cookie_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let (ca, cfg) = tls_setup(dir.path(), &provider, &audience_routes(&up));
    let yaml = cfg.build().replace("  cookie_name: tokengate\n", "");
    let gw = Gateway::start(&yaml);

    for alpn in [&[&b"http/1.1"[..]][..], &[]] {
        let mut tls = connect(gw.port(), &ca, "localhost", alpn).await.unwrap();
        assert_ne!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tls.write_all(b"GET /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
        let login_cookie = answer
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .unwrap_or_default();
        assert!(login_cookie.contains("; Secure"), "{login_cookie}");
        assert!(
            login_cookie[11..]
                .trim_start()
                .starts_with("__Host-tokengate-tx."),
            "the login cookie is named after the __Host- session cookie: {login_cookie}"
        );
    }
    // The session cookie's name: a request with a cookie of that name is read as a session.
    let cookie = mint_cookie(
        &TEST_KEY,
        "__Host-tokengate",
        &session_for(&provider.mint_refresh_token(), "primary"),
    );
    let conn = h2_connection(gw.port(), &ca).await;
    let r = h2_get(&conn, gw.port(), "/api/0/x", &cookie).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.set_cookies
            .iter()
            .all(|c| c.starts_with("__Host-tokengate") && c.contains("; Secure")),
        "{:?}",
        r.set_cookies
    );
}

/// A WebSocket upgrade over HTTP/1.1 on the TLS listener reaches the upstream with the Bearer
/// token, and messages flow both ways.
#[tokio::test(flavor = "multi_thread")]
async fn websockets_work_over_http1_on_the_tls_listener() {
    let dir = tempfile::tempdir().unwrap();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let (ca, cfg) = tls_setup(dir.path(), &provider, &audience_routes(&up));
    let origin = cfg.origin();
    let gw = Gateway::start(&cfg.build());
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));

    let tls = connect(gw.port(), &ca, "localhost", &[b"http/1.1"])
        .await
        .unwrap();
    let mut req = format!("wss://localhost:{}/api/1/ws", gw.port())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut().insert("origin", origin.parse().unwrap());
    let (mut ws, resp) = tokio_tungstenite::client_async(req, tls)
        .await
        .expect("upgrade over TLS");
    assert_eq!(resp.status(), 101);
    let Some(Ok(Message::Text(first))) = ws.next().await else {
        panic!("no description from the upstream");
    };
    let seen = json(&first);
    let bearer = seen["headers"]["authorization"][0].as_str().unwrap();
    let claims = provider::jwt_claims(bearer.trim_start_matches("Bearer ")).unwrap();
    assert_eq!(claims["aud"], AUDIENCES[1]);
    ws.send(Message::Text("ping over tls".into()))
        .await
        .unwrap();
    let Some(Ok(Message::Text(echoed))) = ws.next().await else {
        panic!("no echo");
    };
    assert_eq!(echoed.as_str(), "ping over tls");
    let _ = ws.close(None).await;
}

/// The certificate the gateway presents to a new connection (its leaf, DER).
async fn served_cert(port: u16, ca: &TestCa) -> Vec<u8> {
    let tls = connect(port, ca, "localhost", &[b"h2"]).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der_of(leaf: &Leaf) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// Writes `leaf` as a new `..data` directory and swaps the symlink to it, as the kubelet does
/// for a Secret volume (`tls.crt -> ..data/tls.crt`, `..data -> ..2026_...`).
fn k8s_swap(dir: &Path, generation: u32, leaf: &Leaf) {
    let data = dir.join(format!("..gen{generation}"));
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("tls.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(data.join("tls.key"), &leaf.key_pem).unwrap();
    let tmp = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..gen{generation}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
}

/// Polls `what` for up to 10 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// cert-manager renews the Secret: the kubelet swaps `..data`. New connections get the new
/// certificate, an HTTP/2 connection opened before keeps serving, a renewed pair that does not
/// match is refused with the current one kept, and `SIGHUP` reloads at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_renewed_certificate_is_served_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::create_dir(&secret).unwrap();
    let ca = TestCa::new("gateway test CA");
    let first = ca.leaf(&["localhost"]);
    k8s_swap(&secret, 1, &first);
    for f in ["tls.crt", "tls.key"] {
        std::os::unix::fs::symlink(format!("..data/{f}"), secret.join(f)).unwrap();
    }
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let cfg = ConfigBuilder::new(&provider, &audience_routes(&up))
        .tls(&secret.join("tls.crt"), &secret.join("tls.key"))
        .with_admin();
    let gw = Gateway::start(&cfg.build());
    let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), "primary"));
    assert_eq!(served_cert(gw.port(), &ca).await, der_of(&first));
    let old_conn = h2_connection(gw.port(), &ca).await;
    assert_eq!(
        h2_get(&old_conn, gw.port(), "/api/0/a", &cookie)
            .await
            .status,
        200
    );

    let second = ca.leaf(&["localhost"]);
    k8s_swap(&secret, 2, &second);
    eventually("the renewed certificate is served", async || {
        served_cert(gw.port(), &ca).await == der_of(&second)
    })
    .await;
    let r = h2_get(&old_conn, gw.port(), "/api/0/b", &cookie).await;
    assert_eq!(
        r.status, 200,
        "the connection made before the renewal still serves"
    );

    // A torn or wrong renewal: the key of another certificate. Refused; the current one stays.
    let third = ca.leaf(&["localhost"]);
    let mismatched = Leaf {
        cert_pem: third.cert_pem.clone(),
        key_pem: first.key_pem.clone(),
    };
    k8s_swap(&secret, 3, &mismatched);
    gw.signal("HUP");
    eventually("the mismatched pair is rejected", async || {
        gw.logs().contains("listener certificate rejected")
    })
    .await;
    assert_eq!(served_cert(gw.port(), &ca).await, der_of(&second));

    // Fixed, and reloaded at once by SIGHUP.
    k8s_swap(&secret, 4, &third);
    gw.signal("HUP");
    eventually("SIGHUP loads the fixed pair", async || {
        served_cert(gw.port(), &ca).await == der_of(&third)
    })
    .await;
    let metrics = client()
        .get(cfg.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tokengate_tls_cert_reloads_total{result=\"rejected\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tokengate_tls_cert_expiry_seconds "),
        "{metrics}"
    );
    let ready = client().get(cfg.admin_url("/readyz")).send().await.unwrap();
    assert!(ready.text().await.unwrap().contains("tls_certificate: ok"));
}

/// `check` reads the certificate files: missing, not PEM, a key that does not match.
#[tokio::test(flavor = "multi_thread")]
async fn check_refuses_unusable_certificate_files() {
    let dir = tempfile::tempdir().unwrap();
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let (_ca, cfg) = tls_setup(dir.path(), &provider, &audience_routes(&up));
    let (status, out, _) = run_cli(&["check"], Some(&cfg.build()), &[]);
    assert!(status.success(), "{out}");

    let other = TestCa::new("other").leaf(&["localhost"]);
    let (other_cert, _) = other.write(dir.path(), "other");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let cases = [
        (
            dir.path().join("missing.crt"),
            dir.path().join("tls.key"),
            "server.tls.cert: cannot read",
        ),
        (
            not_pem.clone(),
            dir.path().join("tls.key"),
            "holds no PEM certificate",
        ),
        (
            dir.path().join("tls.crt"),
            not_pem,
            "holds no PEM private key",
        ),
        (
            other_cert,
            dir.path().join("tls.key"),
            "does not match the certificate",
        ),
    ];
    for (cert, key, expected) in cases {
        let yaml = cfg.clone().tls(&cert, &key).build();
        let (status, out, err) = run_cli(&["check"], Some(&yaml), &[]);
        assert!(!status.success(), "{out}");
        assert!(
            format!("{out}{err}").contains(expected),
            "{expected}: {out}{err}"
        );
    }
}
