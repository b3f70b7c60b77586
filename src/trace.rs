//! Trace context (`docs/reference.md#trace-context`): the W3C `traceparent`/`tracestate` a
//! request came with, continued to the upstream and to the token endpoint with the gateway's own
//! span ids (`context`, pure), and the request's context for the calls made on its behalf
//! (`scope`/`current`, a task-local: the token client is reached through the broker, which has
//! no reason to know about tracing).

pub mod context;

pub use context::TraceContext;

use std::future::Future;

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// Runs `fut` with `ctx` as the current request's trace context.
pub async fn scope<F: Future>(ctx: TraceContext, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

/// The current request's trace context, outside a request (a background refresh): `None`.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok()
}
