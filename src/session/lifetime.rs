//! How long a session lives (`session:` in `routes.yaml`, `docs/reference.md#session`): when it
//! is over, when its idle clock needs a refresh, and how long its cookie and its Redis record
//! last. Pure arithmetic on a session's timestamps.

use super::model::{Session, UnixSeconds};
use std::time::Duration;

/// The session lifetime rules of `session:`.
#[derive(Clone, Copy, Debug)]
pub struct Lifetime {
    pub absolute: Duration,
    pub idle: Option<Duration>,
}

impl Lifetime {
    /// Why a session is over at `now`, if it is.
    pub fn expired(&self, s: &Session, now: UnixSeconds) -> Option<&'static str> {
        if now >= s.created_at.saturating_add(self.absolute.as_secs()) {
            return Some("absolute_lifetime");
        }
        if let Some(idle) = self.idle {
            if now >= s.last_seen.saturating_add(idle.as_secs()) {
                return Some("idle_timeout");
            }
        }
        None
    }

    /// `last_seen` is refreshed at most every tenth of the idle timeout (and at most once a
    /// minute), so an active session is rewritten rarely instead of on every request.
    pub fn needs_touch(&self, s: &Session, now: UnixSeconds) -> bool {
        match self.idle {
            None => false,
            Some(idle) => now.saturating_sub(s.last_seen) >= (idle.as_secs() / 10).max(60),
        }
    }

    /// Seconds the cookie should live: until the absolute lifetime ends.
    pub fn max_age(&self, s: &Session, now: UnixSeconds) -> u64 {
        s.created_at
            .saturating_add(self.absolute.as_secs())
            .saturating_sub(now)
    }

    /// How long a Redis record lives from `now`: to the end of the absolute lifetime, or sooner
    /// by the idle timeout.
    pub fn record_ttl(&self, s: &Session, now: UnixSeconds) -> Duration {
        let absolute = self.max_age(s, now);
        let secs = match self.idle {
            Some(idle) => absolute.min(idle.as_secs()),
            None => absolute,
        };
        Duration::from_secs(secs.max(1))
    }
}
