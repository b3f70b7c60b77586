//! The `server` section: the listeners and the public origin (docs/reference.md#server).

use super::fields;
use super::model::ServerConfig;
use super::read;
use super::section::section;
use super::tls;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use std::net::SocketAddr;
use std::time::Duration;

/// A sanity bound: far above any core count this runs on, far below what would exhaust memory.
const MAX_THREADS: usize = 1024;

pub(crate) fn server(w: &mut Walker, path: &str, node: &Node) -> Field<ServerConfig> {
    let server = section!(w, path, node, ServerConfig {
        listen: required => read::parsed(fields::socket_addr),
        public_url: required => read::parsed(fields::public_url),
        admin_listen: optional => read::parsed(fields::socket_addr),
        threads: optional => read::count(1, MAX_THREADS),
        grace_period: default(Duration::from_secs(30)) => read::duration,
        assertion_key: optional => read::parsed(fields::assertion_key),
        assertion_keys: default(Vec::new())
            => read::list("key files", read::parsed(fields::assertion_key)),
        tls: optional => tls::server_tls,
        trusted_proxies: default(Vec::new()) => read::list("CIDRs", read::parsed(fields::cidr)),
    });
    if let Field::Value(s) = &server {
        check(w, path, s);
    }
    server
}

/// What only the two listeners or the whole origin together can show.
fn check(w: &mut Walker, path: &str, server: &ServerConfig) {
    if let Some(admin) = server.admin_listen {
        if same_socket(admin, server.listen) {
            w.error(
                &join(path, "admin_listen"),
                format!(
                    "must differ from server.listen ({}): the proxy and the admin listener \
                     cannot share an address (0.0.0.0 and [::] take the port on every address); \
                     give it another port",
                    server.listen
                ),
            );
        }
    }
    if server.assertion_key.is_some() && !server.assertion_keys.is_empty() {
        w.error(
            &join(path, "assertion_keys"),
            "set either assertion_key (one key) or assertion_keys (a list for rotation: the \
             first signs, every one is published), not both",
        );
    }
    if server.tls.is_some() && !server.is_https() {
        w.error(
            &join(path, "tls"),
            "needs an https:// server.public_url: browsers reach a TLS listener with https, \
             and the login's redirect URI is built from public_url",
        );
    }
    if !server.is_https() && !fields::is_loopback(&server.public_url) {
        w.warn(
            &join(path, "public_url"),
            "is http:// on a host other than this machine, so the session cookie is sent \
             without Secure and travels in clear; use the https:// origin browsers see (also \
             behind a proxy that terminates TLS)",
        );
    }
}

/// Two listeners collide when they share a port and either binds every address (`0.0.0.0`,
/// `[::]`) or both bind the same one.
fn same_socket(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

#[cfg(test)]
mod tests;
