//! `grant: client_credentials`: the gateway's own token for a route's audience and scope. It
//! belongs to no user, so it lives in a process-wide cache rather than in a session: one entry
//! per `(client, audience, scope)` (a handful, from the routes of the configs loaded), used while
//! `expires_at - expiry_leeway > now`, with one token-endpoint call at a time per entry. A
//! request that waited for a call that failed gets that call's failure instead of calling again,
//! so a provider that is down sees one call per burst, not one per request.
//!
//! Nothing here touches a session: a failure is answered by the outcome table without clearing
//! anything (`invalid_grant`, which has no session to end here, is `403 token_unavailable`).

use super::GrantRequest;
use crate::config::ProviderConfig;
use crate::metrics::Metrics;
use crate::session::model::{now, UnixSeconds};
use crate::tokens::broker::TokenNeed;
use crate::tokens::client::TokenClient;
use crate::tokens::response::{Exchange, Grant};
use crate::tokens::scope::Scope;
use crate::tokens::{Decision, TokenError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// `Retry-After` when the provider did not say (as for session tokens).
const DEFAULT_RETRY_AFTER: u64 = 5;

/// `(client_id, audience, scope)`: a reload to another client must not reuse the old one's token.
type Key = (String, Option<String>, Scope);

/// The process's client-credentials tokens.
#[derive(Default)]
pub struct ClientCredentials {
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
}

#[derive(Default)]
struct Entry {
    state: Mutex<State>,
    /// Held for the token-endpoint call: concurrent requests wait here, then find its result.
    call: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    token: Option<Grant>,
    failure: Option<(Instant, TokenError)>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ClientCredentials {
    /// The token for `need` (its `via` is ignored): cached, or from one call shared by every
    /// request that needs it meanwhile.
    pub async fn token_for(
        &self,
        client: &TokenClient,
        metrics: &Metrics,
        provider: &ProviderConfig,
        need: TokenNeed<'_>,
        leeway: u64,
    ) -> Result<(String, Decision), TokenError> {
        let entry = self.entry(provider, need);
        let hit = |decision| usable(&guard(&entry.state), need.scope, now(), leeway, decision);
        if let Some(done) = hit(Decision::Hit) {
            return done;
        }
        let waited_since = Instant::now();
        let _turn = entry.call.lock().await;
        if let Some(done) = hit(Decision::Coalesced) {
            return done;
        }
        if let Some((at, e)) = &guard(&entry.state).failure {
            if *at >= waited_since {
                return Err(e.clone());
            }
        }
        let grant = GrantRequest::ClientCredentials;
        let report = client
            .request(provider, grant, need.audience, need.scope)
            .await;
        metrics.token_request(
            need.route,
            grant.label(),
            report.exchange.outcome(),
            report.elapsed,
        );
        let detail = report
            .transport_error
            .clone()
            .unwrap_or_else(|| report.exchange.outcome().to_owned());
        let outcome = judge(report.exchange, report.retry_after);
        let mut state = guard(&entry.state);
        match outcome {
            Ok(token) => {
                tracing::info!(route = need.route, grant = grant.label(), audience = need.audience.unwrap_or(""), scope = %need.scope, "token obtained");
                state.failure = None;
                state.token = Some(token);
                usable(&state, need.scope, now(), 0, Decision::Refreshed)
                    .unwrap_or(Err(TokenError::InvalidResponse))
            }
            Err(e) => {
                tracing::warn!(route = need.route, grant = grant.label(), audience = need.audience.unwrap_or(""), error = e.code(), detail = %detail, "token request failed");
                state.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    fn entry(&self, provider: &ProviderConfig, need: TokenNeed<'_>) -> Arc<Entry> {
        let key = (
            provider.client_id.clone(),
            need.audience.map(str::to_owned),
            need.scope.clone(),
        );
        guard(&self.entries).entry(key).or_default().clone()
    }
}

/// The cached token's answer while it is usable: the token when its grant covers `scope`, else
/// what is missing (asking again before it expires would get the same grant).
fn usable(
    state: &State,
    scope: &Scope,
    now: UnixSeconds,
    leeway: u64,
    decision: Decision,
) -> Option<Result<(String, Decision), TokenError>> {
    let token = state.token.as_ref()?;
    let live = token
        .expires_at
        .checked_sub(leeway)
        .is_some_and(|deadline| deadline > now);
    if !live {
        return None;
    }
    Some(if token.scope.covers(scope) {
        Ok((token.access_token.clone(), decision))
    } else {
        Err(TokenError::InsufficientScope {
            missing: token.scope.missing(scope),
        })
    })
}

/// The outcome table without a session: the grant, or the error the request answers with.
fn judge(exchange: Exchange, retry_after: Option<u64>) -> Result<Grant, TokenError> {
    match exchange {
        Exchange::Success { grant, .. } => Ok(grant),
        Exchange::InvalidGrant => Err(TokenError::Denied {
            code: "invalid_grant".to_owned(),
        }),
        Exchange::Unavailable { .. } => Err(TokenError::Unavailable {
            retry_after: retry_after.map_or(DEFAULT_RETRY_AFTER, |s| s.clamp(1, 300)),
        }),
        Exchange::Denied { code, .. } => Err(TokenError::Denied { code }),
        Exchange::InvalidResponse { .. } => Err(TokenError::InvalidResponse),
        Exchange::AudienceMismatch { .. } => Err(TokenError::AudienceMismatch),
    }
}

#[cfg(test)]
mod tests;
