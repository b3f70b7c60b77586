//! The `limits:` section: its defaults, every key, and the range of each.

use super::*;
use crate::config::parse_str;

const BASE: &str = r#"
server:
  listen: "127.0.0.1:8080"
  public_url: "http://127.0.0.1:8080"
provider:
  issuer: "https://issuer.example.com/"
  client_id: "gw"
  client_secret: "gw-secret"
session:
  keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"]
tokens:
  max_cached: 0
routes:
  - name: orders
    path_prefix: /api/orders
    upstream: "http://127.0.0.1:9101"
"#;

fn parse(limits: &str) -> Result<LimitsConfig, Vec<String>> {
    parse_str(&format!("{BASE}{limits}"), &|_| None)
        .map(|c| c.limits)
        .map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

#[test]
fn absent_section_gives_the_defaults() {
    let limits = parse("").expect("valid");
    assert_eq!(limits, LimitsConfig::default());
    assert_eq!(limits.max_header_bytes, 98_304);
    assert_eq!(limits.max_cookie_bytes, 73_728);
    assert_eq!(limits.max_cookie_chunks, 16);
    assert_eq!(limits.client_header_timeout, Duration::from_secs(30));
    assert_eq!(limits.client_body_timeout, Duration::from_secs(60));
    assert_eq!(limits.upstream_connect_timeout, Duration::from_secs(5));
    assert_eq!(limits.upstream_read_timeout, Duration::from_secs(60));
    assert_eq!(parse("limits:\n").expect("valid"), LimitsConfig::default());
}

#[test]
fn every_key_is_read() {
    let limits = parse(
        "limits:\n  max_header_bytes: 16384\n  max_cookie_bytes: 8192\n  \
         max_cookie_chunks: 2\n  client_header_timeout: 5s\n  client_body_timeout: 10s\n  \
         upstream_connect_timeout: 500ms\n  upstream_read_timeout: 2m\n",
    )
    .expect("valid");
    assert_eq!(
        limits,
        LimitsConfig {
            max_header_bytes: 16384,
            max_cookie_bytes: 8192,
            max_cookie_chunks: 2,
            client_header_timeout: Duration::from_secs(5),
            client_body_timeout: Duration::from_secs(10),
            upstream_connect_timeout: Duration::from_millis(500),
            upstream_read_timeout: Duration::from_secs(120),
        }
    );
}

#[test]
fn out_of_range_values_are_errors_with_their_path() {
    let cases = [
        ("max_header_bytes: 100", "limits.max_header_bytes"),
        ("max_header_bytes: 2000000", "limits.max_header_bytes"),
        ("max_cookie_bytes: 0", "limits.max_cookie_bytes"),
        ("max_cookie_chunks: 0", "limits.max_cookie_chunks"),
        ("max_cookie_chunks: 17", "limits.max_cookie_chunks"),
        ("client_header_timeout: 0s", "limits.client_header_timeout"),
        (
            "upstream_read_timeout: soon",
            "limits.upstream_read_timeout",
        ),
        ("max_body_bytes: 1", "limits.max_body_bytes"),
    ];
    for (line, path) in cases {
        let errors = parse(&format!("limits:\n  {line}\n")).expect_err(line);
        assert_eq!(errors.len(), 1, "{line}: {errors:?}");
        assert!(errors[0].starts_with(&format!("{path}: ")), "{errors:?}");
    }
}

#[test]
fn cookie_limit_cannot_exceed_header_limit() {
    let errors = parse("limits:\n  max_header_bytes: 8192\n  max_cookie_bytes: 16384\n")
        .expect_err("cookies are part of the header");
    assert_eq!(
        errors,
        vec![
            "limits.max_cookie_bytes: must not exceed limits.max_header_bytes (8192), \
              which counts the cookies too"
                .to_owned()
        ]
    );
}

#[test]
fn a_section_that_is_not_a_mapping_is_an_error() {
    let errors = parse("limits: 5\n").expect_err("not a mapping");
    assert_eq!(errors, vec!["limits: expected a mapping, got an integer"]);
}
