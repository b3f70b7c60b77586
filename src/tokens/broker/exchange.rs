//! The steps every exchange shares, whichever store holds the session: after waiting for the
//! session's turn, look again ([`Broker::reselect`]: another request may have fetched the token
//! or failed to); make the one token-endpoint call ([`Broker::call`], with its metrics and a
//! heartbeat for the Redis lock); and report the outcome ([`Broker::finish`]: the log line, and
//! the failure shared with the requests that waited for the same need).

use super::rotation::Rotation;
use super::slot::SessionSlot;
use super::transition::{Answer, DEFAULT_RETRY_AFTER};
use super::{Broker, Settings, TokenNeed};
use crate::session::model::{now, Session, UnixSeconds};
use crate::tokens::cache::{self, Selection};
use crate::tokens::client::ExchangeReport;
use crate::tokens::grant::{GrantRequest, Via};
use crate::tokens::response::Exchange;
use crate::tokens::{Decision, TokenError};
use std::time::{Duration, Instant};

/// What [`Broker::finish`] needs of a report after its exchange was applied.
pub(super) struct ReportMeta {
    retry_after: Option<u64>,
    transport_error: Option<String>,
    outcome: &'static str,
}

impl ReportMeta {
    pub(super) fn of(r: &ExchangeReport) -> Self {
        ReportMeta {
            retry_after: r.retry_after,
            transport_error: r.transport_error.clone(),
            outcome: r.exchange.outcome(),
        }
    }
}

/// `cache::select` for `need`, except that a token the provider refused as a subject
/// (`Via::Refresh { stale }`) is no hit: it must be renewed.
pub(super) fn select<'s>(
    session: &'s Session,
    need: TokenNeed<'_>,
    now: UnixSeconds,
    leeway: u64,
) -> Selection<'s> {
    match cache::select(session, need.audience, need.scope, now, leeway) {
        Selection::Hit(t) if matches!(need.via, Via::Refresh { stale: Some(s) } if s == t.access_token) => {
            Selection::Miss
        }
        other => other,
    }
}

impl Broker {
    /// After waiting for our turn: another request's result, when it serves this need.
    pub(super) fn reselect(
        &self,
        slot: &SessionSlot,
        session: &Session,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Option<Answer> {
        let leeway = settings.policy.leeway;
        let done = match select(session, need, now(), leeway) {
            Selection::Hit(t) => {
                tracing::debug!(route = need.route, "token obtained by a concurrent request");
                Ok((t.access_token.clone(), Decision::Coalesced))
            }
            Selection::NarrowGrant { missing } => Err(TokenError::InsufficientScope { missing }),
            Selection::Miss => Err(slot.shared_failure(need, waited_since)?),
        };
        self.metrics.refresh_coalesced.inc();
        Some(done)
    }

    /// One token-endpoint call with the session's refresh token, or the subject token of a token
    /// exchange (metrics included).
    /// `heartbeat` runs periodically while the call is in flight (the Redis lock). `Err`: the
    /// session has no refresh token (see [`no_refresh_token`]).
    pub(super) async fn call<F, Fut>(
        &self,
        session: &Session,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        heartbeat: F,
    ) -> Result<ExchangeReport, TokenError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let grant = match need.via {
            Via::Exchange { subject, .. } => GrantRequest::TokenExchange {
                subject_token: subject,
            },
            Via::Refresh { .. } => match session.refresh_token.as_deref() {
                Some(rt) => GrantRequest::RefreshToken(rt),
                None => {
                    let error = no_refresh_token(need, settings);
                    let counter = match error {
                        TokenError::SessionExpired => &self.metrics.sessions_cleared,
                        _ => &self.metrics.broker_events,
                    };
                    counter.with_label_values(&["no_refresh_token"]).inc();
                    return Err(error);
                }
            },
        };
        let call = self
            .client
            .request(settings.provider, grant, need.audience, need.scope);
        tokio::pin!(call);
        let beat_every = (settings.provider.timeout / 3).max(Duration::from_millis(200));
        let report = loop {
            tokio::select! {
                r = &mut call => break r,
                _ = tokio::time::sleep(beat_every) => heartbeat().await,
            }
        };
        self.metrics.token_request(
            need.route,
            grant.label(),
            report.exchange.outcome(),
            report.elapsed,
        );
        let renews_subject = matches!(
            need.via,
            Via::Exchange {
                last_try: false,
                ..
            }
        );
        if matches!(report.exchange, Exchange::InvalidGrant) && !renews_subject {
            self.metrics
                .sessions_cleared
                .with_label_values(&["invalid_grant"])
                .inc();
        }
        let declared = Rotation::declared(settings.provider.rotates_refresh_tokens);
        let presented = match grant {
            GrantRequest::RefreshToken(rt) => Some(rt),
            _ => None,
        };
        if presented.is_some_and(|rt| declared.contradicted_by(rt, &report.exchange)) {
            self.metrics
                .broker_events
                .with_label_values(&["unexpected_rotation"])
                .inc();
            tracing::error!(route = need.route, "the provider rotated a refresh token although provider.rotates_refresh_tokens is false: exchanges that overlap now are reuse; set it to true");
        }
        Ok(report)
    }

    /// Logs the outcome and shares a failure with the requests waiting for the same need.
    pub(super) fn finish(
        &self,
        slot: &SessionSlot,
        need: TokenNeed<'_>,
        meta: ReportMeta,
        answer: Answer,
    ) -> Answer {
        let e = match answer {
            Ok(ok) => {
                tracing::info!(route = need.route, grant = need.via.label(), audience = need.audience.unwrap_or(""), scope = %need.scope, "token obtained");
                return Ok(ok);
            }
            Err(TokenError::Unavailable { .. }) => TokenError::Unavailable {
                retry_after: meta
                    .retry_after
                    .map(|s| s.clamp(1, 300))
                    .unwrap_or(DEFAULT_RETRY_AFTER),
            },
            Err(other) => other,
        };
        tracing::warn!(
            route = need.route,
            grant = need.via.label(),
            audience = need.audience.unwrap_or(""),
            error = e.code(),
            detail = meta.transport_error.as_deref().unwrap_or(meta.outcome),
            "token exchange failed"
        );
        slot.record_failure(need, &e);
        Err(e)
    }
}

/// The answer for a session without a refresh token (the login brought none: no
/// `offline_access`) that needs a token it does not hold. For the login audience its token has
/// expired and the session can do nothing more: it is over (`401 session_expired`). For another
/// audience the session still serves the routes of its login token, so it is kept and only this
/// route is refused (`403 token_unavailable`, `no_refresh_token`).
pub(super) fn no_refresh_token(need: TokenNeed<'_>, settings: Settings<'_>) -> TokenError {
    let login = settings.provider.login.audience.as_deref();
    match need.audience {
        Some(aud) if Some(aud) != login => TokenError::NoRefreshToken,
        _ => TokenError::SessionExpired,
    }
}
