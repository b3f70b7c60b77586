//! The `limits:` section of `routes.yaml`: request size limits and timeouts. Every key is
//! optional and the defaults are meant for production, so a config without the section is safe;
//! the bounds refuse values that would break ordinary browsers or disable a protection.

use super::model::LimitsConfig;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::session::codec::MAX_CHUNKS;
use std::time::Duration;

const LIMITS_KEYS: &[&str] = &[
    "max_header_bytes",
    "max_cookie_bytes",
    "max_cookie_chunks",
    "client_header_timeout",
    "client_body_timeout",
    "upstream_connect_timeout",
    "upstream_read_timeout",
];

/// Every chunk a session may have (16 × 4000 bytes) plus 8 KiB of the site's other cookies: by
/// default the gateway accepts every session it can write.
pub const DEFAULT_MAX_COOKIE_BYTES: usize = 72 * 1024;
/// The cookie allowance plus 24 KiB for the request line and every other header.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 96 * 1024;
/// pingora answers `400` by itself above 1 MiB of header, so a larger limit would never apply.
const MAX_MAX_HEADER_BYTES: i128 = 1024 * 1024;
/// One full-size cookie: a smaller limit would refuse an ordinary one-chunk session.
const MIN_SIZE_LIMIT: i128 = 4096;

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_cookie_bytes: DEFAULT_MAX_COOKIE_BYTES,
            max_cookie_chunks: MAX_CHUNKS,
            client_header_timeout: Duration::from_secs(30),
            client_body_timeout: Duration::from_secs(60),
            upstream_connect_timeout: Duration::from_secs(5),
            upstream_read_timeout: Duration::from_secs(60),
        }
    }
}

pub(crate) fn limits(w: &mut Walker, node: &Node) -> Option<LimitsConfig> {
    let entries = w.entries("limits", node)?;
    let defaults = LimitsConfig::default();
    let (mut header_bytes, mut cookie_bytes, mut chunks) =
        (Field::Absent, Field::Absent, Field::Absent);
    let (mut header_timeout, mut body_timeout) = (Field::Absent, Field::Absent);
    let (mut connect_timeout, mut read_timeout) = (Field::Absent, Field::Absent);
    let size_range = format!("an integer from {MIN_SIZE_LIMIT} to {MAX_MAX_HEADER_BYTES}");
    for (key, value) in entries {
        let path = join("limits", key);
        let size = |w: &mut Walker| {
            w.integer(
                &path,
                value,
                MIN_SIZE_LIMIT,
                MAX_MAX_HEADER_BYTES,
                &size_range,
            )
            .map(to_usize)
        };
        match key.as_str() {
            "max_header_bytes" => header_bytes = size(w),
            "max_cookie_bytes" => cookie_bytes = size(w),
            "max_cookie_chunks" => {
                let max = i128::try_from(MAX_CHUNKS).unwrap_or(1);
                let expected = format!("an integer from 1 to {max}");
                chunks = w.integer(&path, value, 1, max, &expected).map(to_usize);
            }
            "client_header_timeout" => header_timeout = w.positive_duration(&path, value),
            "client_body_timeout" => body_timeout = w.positive_duration(&path, value),
            "upstream_connect_timeout" => connect_timeout = w.positive_duration(&path, value),
            "upstream_read_timeout" => read_timeout = w.positive_duration(&path, value),
            _ => w.unknown_key(&path, LIMITS_KEYS),
        }
    }
    let limits = LimitsConfig {
        max_header_bytes: header_bytes.or(defaults.max_header_bytes)?,
        max_cookie_bytes: cookie_bytes.or(defaults.max_cookie_bytes)?,
        max_cookie_chunks: chunks.or(defaults.max_cookie_chunks)?,
        client_header_timeout: header_timeout.or(defaults.client_header_timeout)?,
        client_body_timeout: body_timeout.or(defaults.client_body_timeout)?,
        upstream_connect_timeout: connect_timeout.or(defaults.upstream_connect_timeout)?,
        upstream_read_timeout: read_timeout.or(defaults.upstream_read_timeout)?,
    };
    if limits.max_cookie_bytes > limits.max_header_bytes {
        w.error(
            "limits.max_cookie_bytes",
            format!(
                "must not exceed limits.max_header_bytes ({}), which counts the cookies too",
                limits.max_header_bytes
            ),
        );
        return None;
    }
    Some(limits)
}

/// The walker's range check ran first, so the value fits.
fn to_usize(n: i128) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    const BASE: &str = r#"
server:
  listen: "127.0.0.1:8080"
  public_url: "http://127.0.0.1:8080"
provider:
  issuer: "https://issuer.example.com/"
  client_id: "gw"
session:
  keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"]
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
}
