//! Step 11, identity: what the upstream learns about the user
//! (`docs/reference.md#access-policy-and-identity`), as headers the listener sets on the upstream
//! request, replacing any the client sent: the route's `upstream_headers:` (static), its
//! `identity_headers:` (claims of the session, sanitised by `identity::headers`), and
//! `X-Tokengate-Assertion` when the route asks for it (`identity::assertion`, reused while
//! fresh). The identity headers a *client* sent are removed on every route by the listener
//! (`Loaded::stripped`), whatever this step adds. A machine client's validated Bearer
//! (step `bearer`) supplies the claims instead of a session; the assertion is made for sessions
//! only, so such a request carries none.

use super::{Flow, RequestState};
use crate::app::App;
use crate::config::RouteConfig;
use crate::http::{ErrorCode, Reply};
use crate::identity::headers::claim_value;
use crate::identity::ASSERTION_HEADER;
use crate::policy::ClaimSource;
use crate::session::model::now;
use http::{HeaderName, HeaderValue};
use std::ops::ControlFlow;

pub fn step(app: &App, state: &mut RequestState) -> Flow {
    let Some(route) = state.route.as_ref() else {
        return ControlFlow::Continue(());
    };
    let config = &route.config;
    let mut headers = Vec::with_capacity(config.upstream_headers.len());
    for h in &config.upstream_headers {
        headers.push((h.name.clone(), h.value.clone()));
    }
    if let Some(claims) = state.client_claims() {
        claim_headers(&mut headers, config, claims);
    }
    if let Some(view) = state.session.view.as_ref() {
        let session = view.session.as_ref();
        claim_headers(&mut headers, config, session);
        if config.identity_assertion {
            let signed = match state.loaded.assertions.as_ref() {
                Some(a) => a.for_session(session, &config.name, route.audience(), now()),
                None => Err("no assertion key".to_owned()),
            };
            match signed {
                Ok(value) => headers.push((HeaderName::from_static(ASSERTION_HEADER), value)),
                Err(e) => {
                    app.metrics
                        .assertion_failed
                        .with_label_values(&[&config.name])
                        .inc();
                    tracing::error!(route = %config.name, error = %e, "identity assertion not signed");
                    return ControlFlow::Break(Reply::error(500, ErrorCode::Internal));
                }
            }
        }
    }
    state.upstream.headers = headers;
    ControlFlow::Continue(())
}

/// The route's `identity_headers:` from `claims` (a session's, or a client token's).
fn claim_headers(
    headers: &mut Vec<(HeaderName, HeaderValue)>,
    config: &RouteConfig,
    claims: &impl ClaimSource,
) {
    for h in &config.identity_headers {
        if let Some(mut value) = claim_value(claims, &h.claim) {
            value.set_sensitive(true);
            headers.push((h.name.clone(), value));
        }
    }
}
