//! The upstream peer of a route, as pingora's connector takes it: the address, TLS with the
//! name to send and verify (`upstream_sni`, else the upstream's host), the route's private CA
//! and client certificate (loaded with the config), HTTP/2 when asked (`upstream_h2`), and the
//! time limits (docs/reference.md#tls-and-http2, docs/reference.md#limits).

use super::limits;
use crate::config::{LimitsConfig, RouteConfig};
use crate::tls::upstream::group_key;
use pingora::prelude::HttpPeer;

/// Concurrent streams on one HTTP/2 upstream connection before pingora opens another; the
/// usual server default (gRPC servers, nginx, h2).
const H2_STREAMS: usize = 100;

/// The peer for `route`. Verification stays on: pingora verifies the certificate against the
/// route's CA bundle (or the system's roots) and the SNI name. That name is never empty (the
/// config refuses an empty `upstream_sni`, and a URL always has a host): pingora skips every
/// check for a peer without one.
pub fn for_route(route: &RouteConfig, limits: &LimitsConfig) -> HttpPeer {
    let up = &route.upstream;
    let sni = route
        .upstream_sni
        .clone()
        .unwrap_or_else(|| up.host.clone());
    let mut peer = HttpPeer::new(up.address(), up.tls, sni);
    limits::upstream_timeouts(&mut peer.options, limits);
    if let Some(ca) = &route.upstream_ca {
        peer.options.ca = Some(ca.certs.clone());
    }
    if let Some(client) = &route.upstream_client_cert {
        peer.client_cert_key = Some(client.pair.clone());
    }
    if route.upstream_h2 {
        peer.options.set_http_version(2, 2);
        peer.options.max_h2_streams = H2_STREAMS;
    }
    peer.group_key = group_key(
        route.upstream_ca.as_ref(),
        route.upstream_client_cert.as_ref(),
    );
    peer
}
