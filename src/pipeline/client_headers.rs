//! Step 4b, client headers: what a client may not say about itself
//! (`docs/reference.md#proxying-a-request`, items on identity and forwarding headers).
//!
//! * Identity headers that upstreams commonly trust (oauth2-proxy's `X-Forwarded-User`, Apache's
//!   `Remote-User`, the gateway's own `X-Tokengate-*`, every route's `identity_headers`) are
//!   removed from every client request on every route kind: an upstream migrated from another
//!   auth proxy believes them, so a client that could send them would be any user.
//! * `X-Forwarded-For`, `Forwarded`, `X-Real-IP`, `True-Client-IP` and `X-Client-IP` say where a
//!   request came from. From a peer outside `server.trusted_proxies` they are removed and
//!   `X-Forwarded-For` is the peer's address alone; from a trusted proxy they are kept,
//!   `X-Forwarded-For` gets the peer appended (`<theirs>, <peer>`), and its `X-Forwarded-Proto`
//!   and `X-Forwarded-Host` stand (it saw the client's scheme and host; the gateway did not).
//! * A `Connection` header that nominates one of the headers the gateway sets or removes is
//!   refused (`400`): a hop-by-hop nomination would have the header dropped after the gateway
//!   decided it, by whichever hop honours `Connection`. Refused here, before any upstream
//!   connection is opened.
//!
//! The decision is recorded in [`ClientHeaders`]; the listener applies it (`proxy::forward`).

use super::{Flow, RequestState};
use crate::http::{ErrorCode, Reply, RequestView};
pub use crate::identity::stripped::IdentityHeaders;
use crate::metrics::Metrics;
use http::{HeaderMap, HeaderName};
use std::net::IpAddr;
use std::ops::ControlFlow;

/// Headers saying where a request came from: believed from a trusted proxy only.
const FORWARDING: [&str; 5] = [
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
];

/// Headers the gateway sets on every forwarded request; `Connection` may not nominate them.
const GATEWAY_SET: [&str; 5] = [
    "host",
    "authorization",
    "cookie",
    "x-forwarded-proto",
    "x-forwarded-host",
];

/// What the upstream request keeps of the client's headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHeaders {
    /// Client headers to remove before forwarding.
    pub remove: Vec<HeaderName>,
    /// The `X-Forwarded-For` value to send; `None` sends none (no peer address known).
    pub forwarded_for: Option<String>,
    /// The peer is a trusted proxy: its `X-Forwarded-Proto/Host` stand.
    pub trusted: bool,
}

pub fn step(metrics: &Metrics, req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    let loaded = &state.loaded;
    if nominates_gateway_header(req.headers, &loaded.identity_headers) {
        metrics.refused.with_label_values(&[NOMINATED_DETAIL]).inc();
        state.close = true;
        return ControlFlow::Break(Reply::error_detail(
            400,
            ErrorCode::BadRequest,
            NOMINATED_DETAIL,
        ));
    }
    let trusted = req
        .client_ip
        .is_some_and(|ip| is_trusted(ip, &loaded.config.server.trusted_proxies));
    state.client_headers = decide(
        req.headers,
        req.client_ip,
        trusted,
        &loaded.identity_headers,
    );
    ControlFlow::Continue(())
}

/// The `detail` of the `400` for a `Connection` header nominating a gateway header.
pub const NOMINATED_DETAIL: &str = "connection_nominates_gateway_header";

/// True when `peer` is inside one of `trusted`.
pub fn is_trusted(peer: IpAddr, trusted: &[ipnet::IpNet]) -> bool {
    let peer = match peer {
        // `::ffff:10.0.0.1` is the IPv4 peer of a dual-stack listener.
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&peer))
}

/// What to remove and what `X-Forwarded-For` becomes.
pub fn decide(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trusted: bool,
    identity: &IdentityHeaders,
) -> ClientHeaders {
    let remove = headers
        .keys()
        .filter(|name| {
            identity.contains(name.as_str()) || (!trusted && FORWARDING.contains(&name.as_str()))
        })
        .cloned()
        .collect();
    let theirs = trusted
        .then(|| joined(headers, "x-forwarded-for"))
        .flatten();
    let forwarded_for = match (theirs, peer) {
        (Some(theirs), Some(peer)) => Some(format!("{theirs}, {peer}")),
        (Some(theirs), None) => Some(theirs),
        (None, peer) => peer.map(|p| p.to_string()),
    };
    ClientHeaders {
        remove,
        forwarded_for,
        trusted,
    }
}

/// Every value of `name`, joined with `, ` (a list header may come in several fields); `None`
/// when absent or not text.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Option<Vec<&str>> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok().map(str::trim))
        .collect();
    let values = values?;
    (!values.is_empty()).then(|| values.join(", "))
}

/// True when a `Connection` option names a header the gateway sets or removes.
pub fn nominates_gateway_header(headers: &HeaderMap, identity: &IdentityHeaders) -> bool {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(|option| String::from_utf8_lossy(option).trim().to_ascii_lowercase())
        .any(|option| {
            GATEWAY_SET.contains(&option.as_str())
                || FORWARDING.contains(&option.as_str())
                || identity.contains(&option)
        })
}

#[cfg(test)]
mod tests;
