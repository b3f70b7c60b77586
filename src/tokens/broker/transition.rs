//! What one token-endpoint answer makes of a session: the pure step between "the provider
//! answered" and "the new state is stored". Each [`Exchange`] outcome is one row of the outcome
//! table (`docs/reference.md#token-endpoint-outcomes`); this function decides the session's next
//! state ([`Next`]) and the request's answer, and nothing else: no lock, no I/O, no clock.
//!
//! The rule that shapes it: a rotated refresh token is kept whatever else the answer says, since
//! the provider has already retired the old one and presenting it again is reuse.

use super::{TokenNeed, TokenPolicy};
use crate::session::model::{Session, TokenSet, UnixSeconds};
use crate::tokens::cache;
use crate::tokens::grant::Via;
use crate::tokens::response::{Exchange, Grant};
use crate::tokens::{Decision, TokenError};

/// `Retry-After` when the provider did not say.
pub(super) const DEFAULT_RETRY_AFTER: u64 = 5;

/// What an exchange makes of the session.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Nothing changed.
    Keep,
    /// A new version to store.
    Version(Box<Session>),
    /// The provider ended the session.
    Ended,
}

/// The request's answer: the access token and how it was obtained, or the outcome-table error.
pub(super) type Answer = Result<(String, Decision), TokenError>;

/// The next state of `session` after `exchange` answered the request for `need`, and the
/// request's answer. `now` stamps the stored token and decides which tokens are pruned.
pub(super) fn apply(
    session: &Session,
    need: TokenNeed<'_>,
    policy: TokenPolicy,
    exchange: Exchange,
    now: UnixSeconds,
) -> (Next, Answer) {
    match exchange {
        Exchange::Success {
            grant,
            refresh_token,
            id_token,
        } => succeeded(session, need, policy, grant, refresh_token, id_token, now),
        // A token exchange's subject may have expired early at the provider: renewing it and
        // trying once more (`grant::exchange`) comes before ending the session.
        Exchange::InvalidGrant
            if matches!(
                need.via,
                Via::Exchange {
                    last_try: false,
                    ..
                }
            ) =>
        {
            (Next::Keep, Err(TokenError::SubjectRejected))
        }
        Exchange::InvalidGrant => (Next::Ended, Err(TokenError::SessionExpired)),
        Exchange::Unavailable { .. } => (
            Next::Keep,
            Err(TokenError::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
            }),
        ),
        Exchange::Denied {
            code,
            refresh_token,
        } => (
            keep_rotated(session, refresh_token),
            Err(TokenError::Denied { code }),
        ),
        Exchange::InvalidResponse { refresh_token, .. } => (
            keep_rotated(session, refresh_token),
            Err(TokenError::InvalidResponse),
        ),
        Exchange::AudienceMismatch { refresh_token } => (
            keep_rotated(session, refresh_token),
            Err(TokenError::AudienceMismatch),
        ),
    }
}

/// A successful answer: a new version holding the granted token (and the rotated refresh token
/// and new ID token, when the answer carries them); a grant narrower than asked for is kept too,
/// so it is not asked for again, and answered with what is missing.
fn succeeded(
    session: &Session,
    need: TokenNeed<'_>,
    policy: TokenPolicy,
    grant: Grant,
    refresh_token: Option<String>,
    id_token: Option<String>,
    now: UnixSeconds,
) -> (Next, Answer) {
    let mut next = next_version(session);
    if let Some(rt) = refresh_token {
        next.refresh_token = Some(rt);
    }
    if let Some(idt) = id_token {
        next.id_token = Some(idt);
    }
    let covers = grant.scope.covers(need.scope);
    let missing = grant.scope.missing(need.scope);
    let access_token = grant.access_token.clone();
    let token = TokenSet {
        audience: need.audience.map(str::to_owned),
        scope: grant.scope,
        requested: need.scope.clone(),
        access_token: grant.access_token,
        expires_at: grant.expires_at,
        last_used: now,
    };
    cache::store(&mut next, token, now, policy.leeway, policy.max_cached);
    let answer = if covers {
        Ok((access_token, Decision::Refreshed))
    } else {
        Err(TokenError::InsufficientScope { missing })
    };
    (Next::Version(Box::new(next)), answer)
}

/// A copy of `session` one version on.
fn next_version(session: &Session) -> Session {
    let mut next = session.clone();
    next.version = session.version + 1;
    next
}

/// A failed answer changes the session only by the refresh token it rotated, if any.
fn keep_rotated(session: &Session, rotated: Option<String>) -> Next {
    match rotated {
        Some(rt) => {
            let mut next = next_version(session);
            next.refresh_token = Some(rt);
            Next::Version(Box::new(next))
        }
        None => Next::Keep,
    }
}

#[cfg(test)]
mod tests;
