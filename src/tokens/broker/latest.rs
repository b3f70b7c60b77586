//! The latest-state map: per session id, the slot holding the newest state this process
//! produced. Only sessions that changed in this process are in it, so a request whose cookie is
//! current costs one lookup.
//!
//! Its bound (`tokens.latest_state_max_bytes`, `docs/reference.md#tokens`) decides eviction
//! itself rather than leaving it to a general-purpose cache, because dropping the wrong slot is
//! exactly the reuse or the lost token the gateway exists to prevent. A slot is *pinned* while a
//! request holds it (its exchange lock, an exchange in flight, a response not yet written) or
//! while it holds a version the browser has not presented back (the cookie store) or Redis has
//! not stored (the redis store); only unpinned slots are evicted, least recently used first.
//! Each slot's weight is kept current as it grows. When the bound is reached with pinned slots
//! only, a request that needs a new slot for an exchange is answered `503 session_busy` instead
//! (no exchange, so nothing is lost), a logout still gets its slot (the bound is exceeded by it,
//! counted), and both are logged and counted (`tokengate_broker_events_total`).

use super::slot::SessionSlot;
use crate::session::model::{now, UnixSeconds};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How long an unpinned slot is kept after its last use.
const TIME_TO_IDLE: UnixSeconds = 15 * 60;
/// How long a slot whose latest version the browser never presented back is kept after its last
/// use: long enough for any browser that did not get its response to come back.
const UNACKNOWLEDGED_TIME_TO_IDLE: UnixSeconds = 24 * 3600;
/// The default bound. A session with three ~900-byte access tokens and an ID token weighs about
/// 7.5 KB in the map (measured by `benches/latest.rs`), so this holds about 35 000 sessions.
pub(super) const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Eviction frees down to this share of the bound, so a full map is swept once per many
/// inserts rather than on each.
const LOW_WATER_PERCENT: u64 = 90;
/// An idle sweep runs at most this often (seconds), on an insert.
const IDLE_SWEEP_EVERY: UnixSeconds = 60;
const SHARDS: usize = 16;

type Shard = HashMap<String, Arc<SessionSlot>>;

pub(super) struct LatestMap {
    shards: Vec<Mutex<Shard>>,
    /// The weight of every slot in the map, kept current by the slots themselves.
    bytes: Arc<AtomicU64>,
    bound: AtomicU64,
    last_idle_sweep: AtomicU64,
}

/// Why [`LatestMap::get_or_insert`] found no room.
#[derive(Debug)]
pub(super) struct Full;

impl LatestMap {
    pub(super) fn new() -> Self {
        LatestMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            bytes: Arc::new(AtomicU64::new(0)),
            bound: AtomicU64::new(DEFAULT_MAX_BYTES),
            last_idle_sweep: AtomicU64::new(now()),
        }
    }

    /// Sets the bound (bytes); the map is brought under it at the next insert.
    pub(super) fn set_bound(&self, bytes: u64) {
        self.bound.store(bytes, Ordering::Relaxed);
    }

    fn shard(&self, sid: &str) -> MutexGuard<'_, Shard> {
        let mut h = DefaultHasher::new();
        sid.hash(&mut h);
        let i = usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0);
        super::slot::lock(&self.shards[i])
    }

    pub(super) fn get(&self, sid: &str) -> Option<Arc<SessionSlot>> {
        let slot = self.shard(sid).get(sid).cloned()?;
        slot.used(now());
        Some(slot)
    }

    /// The slot of `sid`, made by `make` when there is none; `Err(Full)` when a new slot does
    /// not fit even after evicting every unpinned one.
    pub(super) fn get_or_insert(
        &self,
        sid: &str,
        make: impl FnOnce() -> SessionSlot,
    ) -> Result<Arc<SessionSlot>, Full> {
        if let Some(slot) = self.get(sid) {
            return Ok(slot);
        }
        let slot = make();
        self.make_room(u64::from(slot.weight()));
        if self.bytes.load(Ordering::Relaxed) + u64::from(slot.weight()) > self.bound() {
            return Err(Full);
        }
        Ok(self.put(sid, slot))
    }

    /// Inserts `slot` for `sid` even past the bound (a logout must be remembered); returns
    /// whether the bound was exceeded.
    pub(super) fn insert_anyway(&self, sid: &str, slot: SessionSlot) -> bool {
        self.make_room(u64::from(slot.weight()));
        let over = self.bytes.load(Ordering::Relaxed) + u64::from(slot.weight()) > self.bound();
        self.put(sid, slot);
        over
    }

    fn put(&self, sid: &str, slot: SessionSlot) -> Arc<SessionSlot> {
        let mut shard = self.shard(sid);
        if let Some(existing) = shard.get(sid) {
            return existing.clone();
        }
        let slot = Arc::new(slot);
        slot.used(now());
        slot.attach(self.bytes.clone());
        shard.insert(sid.to_owned(), slot.clone());
        slot
    }

    fn bound(&self) -> u64 {
        self.bound.load(Ordering::Relaxed)
    }

    /// Total weight of the slots in the map (bytes, approximate).
    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn len(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| super::slot::lock(s).len() as u64)
            .sum()
    }

    /// Before an insert of `incoming` bytes: drops idle slots now and then, and evicts unpinned
    /// slots, least recently used first, when the insert would pass the bound.
    fn make_room(&self, incoming: u64) {
        let t = now();
        let last = self.last_idle_sweep.load(Ordering::Relaxed);
        if t >= last + IDLE_SWEEP_EVERY
            && self
                .last_idle_sweep
                .compare_exchange(last, t, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.drop_idle(t);
        }
        if self.bytes() + incoming > self.bound() {
            let target = self.bound() / 100 * LOW_WATER_PERCENT;
            self.evict_down_to(target.saturating_sub(incoming));
        }
    }

    /// Removes slots idle past their time to idle (pinned ones only after the longer one, and
    /// never while a request holds them).
    fn drop_idle(&self, t: UnixSeconds) {
        let mut dropped_unacknowledged = 0u64;
        for shard in &self.shards {
            super::slot::lock(shard).retain(|_, slot| {
                let idle = t.saturating_sub(slot.last_used());
                let held = Arc::strong_count(slot) > 1;
                let keep = held
                    || if slot.acknowledged() {
                        idle < TIME_TO_IDLE
                    } else {
                        idle < UNACKNOWLEDGED_TIME_TO_IDLE
                    };
                if !keep {
                    dropped_unacknowledged += u64::from(!slot.acknowledged());
                    slot.detach();
                }
                keep
            });
        }
        if dropped_unacknowledged > 0 {
            tracing::warn!(
                count = dropped_unacknowledged,
                "dropped session states the browser never presented back, after a day idle"
            );
        }
    }

    /// Evicts unpinned slots, least recently used first, until the map weighs at most `target`.
    fn evict_down_to(&self, target: u64) {
        let mut candidates: Vec<(UnixSeconds, usize, String)> = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            for (sid, slot) in super::slot::lock(shard).iter() {
                if evictable(slot) {
                    candidates.push((slot.last_used(), i, sid.clone()));
                }
            }
        }
        candidates.sort_unstable_by_key(|c| c.0);
        for (_, i, sid) in candidates {
            if self.bytes() <= target {
                return;
            }
            let mut shard = super::slot::lock(&self.shards[i]);
            // Checked again under the shard's lock: a request may have taken it since.
            if shard.get(&sid).is_some_and(evictable) {
                if let Some(slot) = shard.remove(&sid) {
                    slot.detach();
                }
            }
        }
    }
}

/// No request holds the slot (the map's reference is the only one: `get` clones under the
/// shard's lock, so this cannot change while it is held) and the browser or Redis has its latest
/// version.
fn evictable(slot: &Arc<SessionSlot>) -> bool {
    Arc::strong_count(slot) == 1 && slot.acknowledged()
}

#[cfg(test)]
mod tests;
