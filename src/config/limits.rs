//! The `limits:` section of `routes.yaml`: request size limits and timeouts
//! (docs/reference.md#limits). Every key is optional and the defaults are meant for production,
//! so a config without the section is safe; the bounds refuse values that would break ordinary
//! browsers or disable a protection.

use super::model::LimitsConfig;
use super::read;
use super::section::section;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::session::codec::MAX_CHUNKS;
use std::time::Duration;

/// Every chunk a session may have (16 × 4000 bytes) plus 8 KiB of the site's other cookies: by
/// default the gateway accepts every session it can write.
const DEFAULT_MAX_COOKIE_BYTES: usize = 72 * 1024;
/// The cookie allowance plus 24 KiB for the request line and every other header.
const DEFAULT_MAX_HEADER_BYTES: usize = 96 * 1024;
/// pingora answers `400` by itself above 1 MiB of header, so a larger limit would never apply.
const MAX_HEADER_BYTES: usize = 1024 * 1024;
/// One full-size cookie: a smaller limit would refuse an ordinary one-chunk session.
const MIN_SIZE_LIMIT: usize = 4096;

pub(crate) fn limits(w: &mut Walker, path: &str, node: &Node) -> Field<LimitsConfig> {
    let size = || read::count(MIN_SIZE_LIMIT, MAX_HEADER_BYTES);
    let limits = section!(w, path, node, LimitsConfig {
        max_header_bytes: default(DEFAULT_MAX_HEADER_BYTES) => size(),
        max_cookie_bytes: default(DEFAULT_MAX_COOKIE_BYTES) => size(),
        max_cookie_chunks: default(MAX_CHUNKS) => read::count(1, MAX_CHUNKS),
        client_header_timeout: default(Duration::from_secs(30)) => read::positive_duration,
        client_body_timeout: default(Duration::from_secs(60)) => read::positive_duration,
        upstream_connect_timeout: default(Duration::from_secs(5)) => read::positive_duration,
        upstream_read_timeout: default(Duration::from_secs(60)) => read::positive_duration,
    });
    match limits {
        Field::Value(l) if l.max_cookie_bytes > l.max_header_bytes => {
            w.error(
                &join(path, "max_cookie_bytes"),
                format!(
                    "must not exceed limits.max_header_bytes ({}), which counts the cookies too",
                    l.max_header_bytes
                ),
            );
            Field::Bad
        }
        other => other,
    }
}

/// The defaults are the table's: the section read from an empty mapping.
impl Default for LimitsConfig {
    fn default() -> Self {
        let mut w = Walker::new(&|_| None);
        match limits(&mut w, "limits", &Node::Null) {
            Field::Value(limits) => limits,
            _ => unreachable!("the limits table's defaults are valid (a unit test reads them)"),
        }
    }
}

#[cfg(test)]
mod tests;
