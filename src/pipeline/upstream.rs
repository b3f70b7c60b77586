//! Step 10, upstream: what the upstream request carries (`docs/reference.md#proxying-a-request`):
//! the normalised path (after `strip_prefix`) with the original query, the upstream's own
//! authority, and the `X-Forwarded-*` facts. The token is the `token` step's; the listener
//! applies all of it (`proxy::forward`).

use super::{Flow, RequestState};
use crate::http::RequestView;
use crate::routing::upstream_path;
use http::{HeaderName, HeaderValue};
use std::net::IpAddr;
use std::ops::ControlFlow;

/// The upstream request, decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpstreamRequest {
    /// Path (after `strip_prefix`) and the original query, e.g. `/x?a=1`.
    pub target: String,
    /// `Host` for the upstream: its host, with the port unless it is the scheme's default.
    pub authority: String,
    pub client_ip: Option<IpAddr>,
    /// `https` when the public URL is.
    pub proto: &'static str,
    /// The request's own host, for `X-Forwarded-Host`.
    pub original_host: Option<String>,
    /// Headers set on the upstream request, replacing the client's (step `identity`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `traceparent` naming the gateway's span, and the client's bounded `tracestate`: both
    /// replace whatever the client sent.
    pub traceparent: Option<HeaderValue>,
    pub tracestate: Option<HeaderValue>,
}

pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> Flow {
    let Some(route) = state.route.as_ref() else {
        return ControlFlow::Continue(());
    };
    let mut path = upstream_path(&route.config, &state.path);
    // `//x` would read as an authority in a request target; one leading slash is the path.
    if path.starts_with("//") {
        path = format!("/{}", path.trim_start_matches('/'));
    }
    let target = match req.query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let up = &route.config.upstream;
    let authority = if (up.tls && up.port == 443) || (!up.tls && up.port == 80) {
        up.host.clone()
    } else {
        up.address()
    };
    state.upstream = UpstreamRequest {
        target,
        authority,
        client_ip: req.client_ip,
        proto: if state.loaded.cookies.secure {
            "https"
        } else {
            "http"
        },
        original_host: req.host.map(str::to_owned),
        headers: Vec::new(),
        traceparent: state.trace.as_ref().map(|t| t.traceparent()),
        tracestate: state.trace.as_ref().and_then(|t| t.tracestate.clone()),
    };
    ControlFlow::Continue(())
}
