//! `grant: token_exchange` (RFC 8693): the route's token is obtained by presenting the session's
//! primary (login) access token as the subject, never its refresh token. Built on the broker, so
//! the result is cached in the session and concurrent requests share one call like any token:
//!
//! 1. the exchanged token is already in the session: done (no subject needed);
//! 2. the subject: the primary token, renewed first through the refresh path when it expired;
//! 3. the exchange. The provider may refuse a subject it holds expired before our clock says so
//!    (`invalid_grant`): then the subject is renewed once (the refused token is excluded from
//!    selection, so the renewal cannot pick it again) and the exchange tried once more, whose
//!    `invalid_grant` is final (the outcome table: the session ends).

use super::Via;
use crate::session::model::now;
use crate::tokens::broker::{Broker, SessionView, Settings, TokenNeed};
use crate::tokens::cache::{self, Selection};
use crate::tokens::scope::Scope;
use crate::tokens::{Decision, TokenError};

/// The access token for `need` (its `via` is ignored) by token exchange.
pub async fn token_for(
    broker: &Broker,
    view: &mut SessionView,
    need: TokenNeed<'_>,
    settings: Settings<'_>,
) -> Result<(String, Decision), TokenError> {
    let primary = view.session.primary.as_ref();
    let primary_token = primary.map(|p| p.access_token.clone()).unwrap_or_default();
    let primary_scope = primary.map_or_else(Scope::empty, |p| p.scope.clone());
    let subject_need = |stale| TokenNeed {
        route: need.route,
        audience: settings.provider.login.audience.as_deref(),
        scope: &primary_scope,
        via: Via::Refresh { stale },
    };
    let leeway = settings.policy.leeway;
    let cached = cache::select(&view.session, need.audience, need.scope, now(), leeway);
    // A cached answer needs no subject: the broker answers it without a call (should it expire
    // in between, the stale subject is refused and renewed like any other).
    let subject = if matches!(cached, Selection::Miss) {
        broker
            .token_for(view, subject_need(None), settings)
            .await?
            .0
    } else {
        primary_token
    };
    let first = TokenNeed {
        via: Via::Exchange {
            subject: &subject,
            last_try: false,
        },
        ..need
    };
    match broker.token_for(view, first, settings).await {
        Err(TokenError::SubjectRejected) => {}
        done => return done,
    }
    tracing::info!(
        route = need.route,
        "the provider refused the subject token of a token exchange; renewing it once"
    );
    let renewed = broker
        .token_for(view, subject_need(Some(&subject)), settings)
        .await?
        .0;
    let last = TokenNeed {
        via: Via::Exchange {
            subject: &renewed,
            last_try: true,
        },
        ..need
    };
    broker.token_for(view, last, settings).await
}
