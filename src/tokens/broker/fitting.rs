//! Every new version of a cookie-store session is fitted to what its cookie may hold
//! (`tokens::fit`), before it becomes the latest state: the sealed cookie cached per version
//! (`slot::SessionSlot::sealed`) is then always of a fitted session.

use super::{Broker, TokenNeed, TokenPolicy};
use crate::session::model::{Session, TokenSet};
use crate::tokens::fit::fit;

/// The label of `tokengate_session_tokens_dropped_total` for tokens dropped to fit the cookie.
pub(super) const COOKIE_LIMIT: &str = "cookie_limit";

impl Broker {
    /// Drops least recently used token sets of `next` until it fits `policy.cookie`, keeping
    /// the token `keep` is served by (the request's own). Counted and logged, without values.
    /// A session that cannot fit is left as it is: the response refuses to write it
    /// (`cookie_for_response`), and the error is logged there.
    pub(super) fn fit_cookie(
        &self,
        next: &mut Session,
        policy: TokenPolicy,
        keep: Option<TokenNeed<'_>>,
    ) {
        let Some(budget) = policy.cookie else {
            return;
        };
        let kept = |t: &TokenSet| keep.is_some_and(|need| serves_need(t, need));
        let fitted = fit(next, |s| budget.fits(s), kept);
        if fitted.dropped > 0 {
            self.metrics
                .tokens_dropped
                .with_label_values(&[COOKIE_LIMIT])
                .inc_by(fitted.dropped as u64);
            tracing::info!(
                dropped = fitted.dropped,
                kept = next.extra.len(),
                "token sets dropped to fit the session cookie into limits.max_cookie_chunks and limits.max_cookie_bytes"
            );
        }
    }
}

/// Whether `t` is the token a request for `need` uses (or asked for): its audience, and a grant
/// or request for the need's scope.
fn serves_need(t: &TokenSet, need: TokenNeed<'_>) -> bool {
    t.audience.as_deref() == need.audience
        && (t.scope.covers(need.scope) || t.requested == *need.scope)
}
