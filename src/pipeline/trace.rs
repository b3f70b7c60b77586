//! Step 1b, trace: the trace this request belongs to (`docs/reference.md#trace-context`). The
//! client's `traceparent` is continued with a new span id for the gateway; a request without one,
//! or with a malformed one, starts a new trace (never refused: tracing must not turn traffic
//! away), so an upstream that logs trace ids always has one. The upstream step sends it on, and
//! token-endpoint calls made for this request carry a child span (`trace::current`).

use super::RequestState;
use crate::http::RequestView;
use crate::trace::TraceContext;

/// Records the request's trace context and returns it for the calls made on its behalf.
pub fn step(req: &RequestView<'_>, state: &mut RequestState) -> TraceContext {
    let ctx = TraceContext::from_headers(req.headers);
    state.trace = Some(ctx.clone());
    ctx
}
