//! Which access token already in the session serves a route, and how the session's token list is
//! kept small. This is the hot path of every proxied request (a hit needs no lock and no network),
//! and the guard of the cookie's size (contract §6), so it is pure and exhaustively tested; the
//! broker calls it before and after taking the session lock, and after every token exchange.
//!
//! Selection matches on the **granted** scope, never the requested one: a provider may grant less
//! than asked (RFC 6749 §3.3), and a token that lacks a scope must not be forwarded as if it had
//! it. The requested scope is remembered only to recognise a narrow grant, so that a route whose
//! scope the provider will not grant does not trigger a token-endpoint call on every request.

use crate::session::model::{Session, TokenSet, UnixSeconds};
use crate::tokens::scope::Scope;

/// What the session can do for a route's `(audience, scope)`.
#[derive(Debug, PartialEq, Eq)]
pub enum Selection<'a> {
    /// A usable token whose grant covers the route: forward it.
    Hit(&'a TokenSet),
    /// Nothing usable: the broker must call the token endpoint.
    Miss,
    /// The provider was already asked for exactly this scope, granted less, and that answer has
    /// not expired: asking again would get the same answer, so the route answers
    /// `insufficient_scope` with `missing` (contract §4, last row of the outcome table).
    NarrowGrant { missing: Scope },
}

/// A token may be forwarded while `expires_at - leeway > now`: the leeway keeps a token that is
/// about to expire from dying on its way through the upstream. Written with `checked_sub` so a
/// leeway larger than `expires_at` means "unusable", not an overflow.
pub fn is_usable(token: &TokenSet, now: UnixSeconds, leeway: u64) -> bool {
    token
        .expires_at
        .checked_sub(leeway)
        .is_some_and(|deadline| deadline > now)
}

/// The one predicate behind [`select`] and [`touch`], so that both always agree on the entry.
fn serves(
    token: &TokenSet,
    audience: Option<&str>,
    scope: &Scope,
    now: UnixSeconds,
    leeway: u64,
) -> bool {
    token.audience.as_deref() == audience
        && token.scope.covers(scope)
        && is_usable(token, now, leeway)
}

/// Picks the token for a route. The primary (login) token is preferred because it is never
/// evicted; among additional tokens the first match wins, which keeps the choice stable between
/// requests. `audience` `None` means "the login audience, not named" and matches only tokens
/// stored with no audience.
pub fn select<'a>(
    session: &'a Session,
    audience: Option<&str>,
    scope: &Scope,
    now: UnixSeconds,
    leeway: u64,
) -> Selection<'a> {
    let hit = |t: &&TokenSet| serves(t, audience, scope, now, leeway);
    if let Some(token) = session
        .primary
        .as_ref()
        .filter(hit)
        .or_else(|| session.extra.iter().find(hit))
    {
        return Selection::Hit(token);
    }
    // A narrow grant is recognised by its *requested* scope being exactly the route's: a token
    // asked for something else says nothing about what this route's request would get. The
    // primary takes part because `store` may have put a narrow grant there (it covered the old
    // primary's grant), and forgetting it would mean one token-endpoint call per request.
    let narrow = |t: &&TokenSet| {
        t.audience.as_deref() == audience
            && t.requested == *scope
            && !t.scope.covers(scope)
            && is_usable(t, now, leeway)
    };
    match session
        .primary
        .as_ref()
        .filter(narrow)
        .or_else(|| session.extra.iter().find(narrow))
    {
        Some(token) => Selection::NarrowGrant {
            missing: token.scope.missing(scope),
        },
        None => Selection::Miss,
    }
}

/// Records a token just obtained from the token endpoint, then prunes. It replaces the primary
/// when it is for the primary's audience and its grant covers the primary's grant (so nothing the
/// primary served is lost); otherwise it becomes an additional token, replacing the one obtained
/// by the same request (same audience, same requested scope), which it supersedes.
///
/// A token with a blank `access_token` is never stored (contract §4: "the empty token is never
/// persisted"); `response::judge` already rejects it, this is the second lock on that door.
pub fn store(
    session: &mut Session,
    mut token: TokenSet,
    now: UnixSeconds,
    leeway: u64,
    max_cached: usize,
) {
    if token.access_token.trim().is_empty() {
        prune(session, now, leeway, max_cached);
        return;
    }
    token.last_used = now;
    let same_request =
        |t: &TokenSet| t.audience == token.audience && t.requested == token.requested;
    session.extra.retain(|t| !same_request(t));
    let replaces_primary = session
        .primary
        .as_ref()
        .is_some_and(|p| p.audience == token.audience && token.scope.covers(&p.scope));
    if replaces_primary {
        session.primary = Some(token);
    } else {
        // Pushed last, so that on a `last_used` tie the fresh token is the last to be evicted.
        session.extra.push(token);
    }
    prune(session, now, leeway, max_cached);
}

/// Keeps the cookie from growing: drops every token that is no longer usable (the primary too:
/// an expired token never serves again, and its audience's next token is stored as an
/// additional one), then the least recently used additional ones (ties: the earliest stored)
/// until at most `max_cached` remain. A usable primary is never dropped.
pub fn prune(session: &mut Session, now: UnixSeconds, leeway: u64, max_cached: usize) {
    if session
        .primary
        .as_ref()
        .is_some_and(|p| !is_usable(p, now, leeway))
    {
        session.primary = None;
    }
    session.extra.retain(|t| is_usable(t, now, leeway));
    while session.extra.len() > max_cached {
        // `min_by_key` returns the first of equal minima: the earliest in the vec.
        let lru = session
            .extra
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| t.last_used)
            .map(|(i, _)| i);
        match lru {
            Some(i) => {
                session.extra.remove(i);
            }
            None => break,
        }
    }
}

/// Whether [`select`] hits the primary (whose use is never recorded: it is never evicted).
pub fn is_primary_hit(
    session: &Session,
    audience: Option<&str>,
    scope: &Scope,
    now: UnixSeconds,
    leeway: u64,
) -> bool {
    session
        .primary
        .as_ref()
        .is_some_and(|p| serves(p, audience, scope, now, leeway))
}

/// Marks the additional token that [`select`] would hit as used now, for LRU eviction. Returns
/// true when the session changed (so the caller knows a new cookie is due).
///
/// The primary is not marked: it is never evicted, so its `last_used` means nothing, and marking
/// it would rewrite the cookie on every request served by the login token.
pub fn touch(
    session: &mut Session,
    audience: Option<&str>,
    scope: &Scope,
    now: UnixSeconds,
    leeway: u64,
) -> bool {
    if session
        .primary
        .as_ref()
        .is_some_and(|p| serves(p, audience, scope, now, leeway))
    {
        return false;
    }
    match session
        .extra
        .iter_mut()
        .find(|t| serves(t, audience, scope, now, leeway))
    {
        Some(token) if token.last_used != now => {
            token.last_used = now;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "cache_tests/mod.rs"]
mod tests;
