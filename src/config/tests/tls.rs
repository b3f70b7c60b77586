//! The TLS keys (docs/reference.md#tls-and-http2): `server.tls` and a route's `upstream_*`,
//! their files read at load, and the rules between them and the URLs' schemes.

use super::*;
use std::path::Path;

/// A certificate for `localhost` and its key written to `dir` as `tls.crt` and `tls.key`.
fn pair_in(dir: &Path) -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert.display().to_string(), key.display().to_string())
}

fn https(text: &str) -> String {
    text.replace("http://127.0.0.1:8080", "https://gw.example.com")
}

#[test]
fn server_tls_loads_with_an_https_public_url_and_not_without() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair_in(dir.path());
    let line = format!("  tls: {{ cert: \"{cert}\", key: \"{key}\" }}\nprovider:");
    let text = MINIMAL.replace("provider:", &line);
    let config = ok(&https(&text));
    let files = config.server.tls.expect("server.tls");
    assert_eq!(files.cert, Path::new(&cert));
    one_error(&text, "server.tls", "needs an https:// server.public_url");
    assert_eq!(ok(&https(MINIMAL)).server.tls, None);
}

#[test]
fn upstream_tls_keys_need_an_https_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pair_in(dir.path());
    let ca = format!("upstream_ca: \"{cert}\"");
    let client = format!("upstream_client_cert: {{ cert: \"{cert}\", key: \"{key}\" }}");
    for (line, key_name) in [
        (ca.as_str(), "upstream_ca"),
        (client.as_str(), "upstream_client_cert"),
        ("upstream_sni: api.internal", "upstream_sni"),
    ] {
        let text = with_route_line(line);
        one_error(
            &text,
            &format!("routes[0].{key_name}"),
            "needs an https:// upstream",
        );
        let route = &ok(&text.replace("http://127.0.0.1:9101", "https://127.0.0.1:9101")).routes[0];
        assert!(
            route.upstream_ca.is_some()
                || route.upstream_client_cert.is_some()
                || route.upstream_sni.as_deref() == Some("api.internal")
        );
    }
    // upstream_h2 also means h2c over plain http.
    assert!(ok(&with_route_line("upstream_h2: true")).routes[0].upstream_h2);
    assert!(!ok(MINIMAL).routes[0].upstream_h2);
}

#[test]
fn upstream_sni_must_be_a_server_name() {
    let base = with_route_line("upstream_sni: X").replace("http://127.0.0.1:9101", "https://a:1");
    for bad in ["\"\"", "\"a b\"", "\"x..y\""] {
        let text = base.replace("upstream_sni: X", &format!("upstream_sni: {bad}"));
        let errs = errors(&text);
        assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
        assert!(errs[0].starts_with("routes[0].upstream_sni: "), "{errs:?}");
    }
    let ip = base.replace("upstream_sni: X", "upstream_sni: 10.0.0.7");
    assert_eq!(ok(&ip).routes[0].upstream_sni.as_deref(), Some("10.0.0.7"));
}

#[test]
fn an_unreadable_ca_bundle_names_the_route_key_and_file() {
    let text = with_route_line("upstream_ca: /nonexistent/ca.pem")
        .replace("http://127.0.0.1:9101", "https://127.0.0.1:9101");
    one_error(
        &text,
        "routes[0].upstream_ca",
        "cannot read /nonexistent/ca.pem",
    );
}
