//! One session's coordination point in the latest-state map: the newest state this process
//! produced for the session, the locks that keep its token exchanges one at a time, the sealed
//! cookie of its newest version (so fifty concurrent responses encrypt once), and the last
//! failed exchange (so requests that waited for it share its answer instead of calling again).

use super::TokenNeed;
use crate::scope::Scope;
use crate::session::model::Session;
use crate::tokens::TokenError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A failed exchange is shared with the requests that were waiting for it for this long, so a
/// burst during an outage makes one call instead of one per request.
const FAILURE_SHARING: Duration = Duration::from_secs(2);

/// The latest known state of one session.
#[derive(Clone)]
pub(super) enum SlotState {
    Live(Arc<Session>),
    /// Ended (by the provider's `invalid_grant`, or a logout): every copy of the cookie is dead.
    Ended,
}

struct RecentFailure {
    audience: Option<String>,
    scope: Scope,
    at: Instant,
    error: TokenError,
}

/// `(audience, scope)`: what one exchange is for.
type NeedKey = (Option<String>, Scope);

/// One session's coordination point.
pub struct SessionSlot {
    state: Mutex<SlotState>,
    /// Serialises token-endpoint calls of this session (one refresh token, one at a time):
    /// taken exclusively, or shared together with a per-need lock when exchanges may overlap.
    pub(super) exchange: tokio::sync::RwLock<()>,
    per_need: Mutex<HashMap<NeedKey, Arc<tokio::sync::Mutex<()>>>>,
    /// The sealed cookie value of the latest version.
    sealed: Mutex<Option<(u64, Arc<str>)>>,
    failure: Mutex<Option<RecentFailure>>,
}

/// Locks a mutex whose holder may have panicked: the data is plain state that stays valid.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SessionSlot {
    pub(super) fn new(state: SlotState) -> Self {
        SessionSlot {
            state: Mutex::new(state),
            exchange: tokio::sync::RwLock::new(()),
            per_need: Mutex::new(HashMap::new()),
            sealed: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }

    /// Approximate bytes this slot holds, for the map's memory bound.
    pub(super) fn weight(&self) -> u32 {
        let session_bytes = match self.current() {
            SlotState::Ended => 0,
            SlotState::Live(s) => {
                let tokens: usize = s
                    .primary
                    .iter()
                    .chain(s.extra.iter())
                    .map(|t| t.access_token.len() + 400)
                    .sum();
                tokens
                    + s.refresh_token.as_ref().map_or(0, String::len)
                    + s.id_token.as_ref().map_or(0, String::len)
            }
        };
        // Slot, locks, map entry and allocator overhead: calibrated so the weight matches the
        // resident memory `benches/latest.rs` measures (about 7.5 KB for the session there).
        u32::try_from(session_bytes + 2500).unwrap_or(u32::MAX)
    }

    /// The lock that serialises exchanges for one `(audience, scope)` of this session.
    pub(super) fn need_lock(&self, need: TokenNeed<'_>) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.per_need)
            .entry((need.audience.map(str::to_owned), need.scope.clone()))
            .or_default()
            .clone()
    }

    pub(super) fn current(&self) -> SlotState {
        lock(&self.state).clone()
    }

    pub(super) fn set(&self, next: SlotState) {
        *lock(&self.state) = next;
    }

    /// Runs `f` on the state under the slot's lock: a read-modify-write that no other change of
    /// this session can interleave with.
    pub(super) fn with_state<R>(&self, f: impl FnOnce(&mut SlotState) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// Takes in a copy seen on a request: a newer one (another replica or a restart wrote it)
    /// replaces ours; an older one is answered with ours.
    pub(super) fn observe(&self, seen: &Arc<Session>) -> SlotState {
        let mut guard = lock(&self.state);
        if let SlotState::Live(cur) = &*guard {
            if seen.version > cur.version {
                *guard = SlotState::Live(seen.clone());
            }
        }
        guard.clone()
    }

    /// The sealed cookie of `session` (the latest version), sealing it only once per version.
    pub(super) fn sealed<E>(
        &self,
        session: &Session,
        seal: impl FnOnce(&Session) -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        let mut sealed = lock(&self.sealed);
        if let Some((v, value)) = &*sealed {
            if *v == session.version {
                return Ok(value.clone());
            }
        }
        let value: Arc<str> = seal(session)?.into();
        *sealed = Some((session.version, value.clone()));
        Ok(value)
    }

    /// Remembers a failed exchange for `need`, for the requests waiting for the same need.
    pub(super) fn record_failure(&self, need: TokenNeed<'_>, error: &TokenError) {
        *lock(&self.failure) = Some(RecentFailure {
            audience: need.audience.map(str::to_owned),
            scope: need.scope.clone(),
            at: Instant::now(),
            error: error.clone(),
        });
    }

    /// A failure of an exchange for the same need that completed while this request was
    /// waiting (since `waited_since`), and recently.
    pub(super) fn shared_failure(
        &self,
        need: TokenNeed<'_>,
        waited_since: Instant,
    ) -> Option<TokenError> {
        let f = lock(&self.failure);
        let f = f.as_ref()?;
        let same = f.audience.as_deref() == need.audience && &f.scope == need.scope;
        (same && f.at >= waited_since && f.at.elapsed() < FAILURE_SHARING).then(|| f.error.clone())
    }
}
