//! One session's coordination point in the latest-state map: the newest state this process
//! produced for the session, the locks that keep its token exchanges one at a time, the sealed
//! cookie of its newest version (so fifty concurrent responses encrypt once), and the last
//! failed exchange (so requests that waited for it share its answer instead of calling again).

use super::TokenNeed;
use crate::scope::Scope;
use crate::session::model::Session;
use crate::session::model::UnixSeconds;
use crate::tokens::TokenError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
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
    /// The newest version the browser presented (cookie store) or Redis holds (redis store):
    /// while the state is newer, the slot must not be evicted.
    acknowledged: AtomicU64,
    last_used: AtomicU64,
    /// This slot's weight as last counted into the map's total (`total`, once in the map).
    weight: AtomicU64,
    total: OnceLock<Arc<AtomicU64>>,
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
            acknowledged: AtomicU64::new(0),
            last_used: AtomicU64::new(0),
            weight: AtomicU64::new(0),
            total: OnceLock::new(),
        }
    }

    /// Counts this slot into the map's `total` (once, when it enters the map).
    pub(super) fn attach(&self, total: Arc<AtomicU64>) {
        let w = u64::from(self.weight());
        self.weight.store(w, Ordering::Relaxed);
        total.fetch_add(w, Ordering::Relaxed);
        let _ = self.total.set(total);
    }

    /// Takes this slot out of the map's total (it left the map).
    pub(super) fn detach(&self) {
        if let Some(total) = self.total.get() {
            let w = self.weight.swap(0, Ordering::Relaxed);
            total.fetch_sub(w, Ordering::Relaxed);
        }
    }

    /// Re-weighs the slot after its state changed, so the map's bound follows its growth.
    fn reweigh(&self, state: &SlotState) {
        if let Some(total) = self.total.get() {
            let w = u64::from(weight_of(state));
            let old = self.weight.swap(w, Ordering::Relaxed);
            if w >= old {
                total.fetch_add(w - old, Ordering::Relaxed);
            } else {
                total.fetch_sub(old - w, Ordering::Relaxed);
            }
        }
    }

    pub(super) fn used(&self, t: UnixSeconds) {
        self.last_used.store(t, Ordering::Relaxed);
    }

    pub(super) fn last_used(&self) -> UnixSeconds {
        self.last_used.load(Ordering::Relaxed)
    }

    /// `version` is safe outside this process: the browser presented it, or Redis stored it.
    pub(super) fn acknowledge(&self, version: u64) {
        self.acknowledged.fetch_max(version, Ordering::Relaxed);
    }

    /// Whether nothing in this slot would be lost with it: it is ended, or its latest version is
    /// acknowledged.
    pub(super) fn acknowledged(&self) -> bool {
        match &*lock(&self.state) {
            SlotState::Ended => true,
            SlotState::Live(s) => s.version <= self.acknowledged.load(Ordering::Relaxed),
        }
    }

    /// Approximate bytes this slot holds, for the map's memory bound.
    pub(super) fn weight(&self) -> u32 {
        weight_of(&lock(&self.state))
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
        let mut state = lock(&self.state);
        *state = next;
        self.reweigh(&state);
    }

    /// Makes `next` the latest state unless the session was ended meanwhile (a logout): an
    /// ended session is never brought back. Returns whether it was set.
    pub(super) fn replace_live(&self, next: Arc<Session>) -> bool {
        self.with_state(|state| match state {
            SlotState::Ended => false,
            SlotState::Live(_) => {
                *state = SlotState::Live(next);
                true
            }
        })
    }

    /// Runs `f` on the state under the slot's lock: a read-modify-write that no other change of
    /// this session can interleave with.
    pub(super) fn with_state<R>(&self, f: impl FnOnce(&mut SlotState) -> R) -> R {
        let mut state = lock(&self.state);
        let r = f(&mut state);
        self.reweigh(&state);
        r
    }

    /// Takes in a copy seen on a request (its cookie, or what Redis holds), which acknowledges
    /// its version: a newer one (another replica or a restart wrote it) replaces ours; an older
    /// one is answered with ours.
    pub(super) fn observe(&self, seen: &Arc<Session>) -> SlotState {
        self.acknowledge(seen.version);
        let mut guard = lock(&self.state);
        if let SlotState::Live(cur) = &*guard {
            if seen.version > cur.version {
                *guard = SlotState::Live(seen.clone());
                self.reweigh(&guard);
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

/// Approximate bytes a slot in `state` holds: the session's strings, plus the slot, its locks, the
/// map entry and allocator overhead, calibrated so the weight matches the resident memory
/// `benches/latest.rs` measures (about 7.5 KB for the session there).
fn weight_of(state: &SlotState) -> u32 {
    let session_bytes = match state {
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
    u32::try_from(session_bytes + 2500).unwrap_or(u32::MAX)
}
