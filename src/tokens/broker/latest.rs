//! The latest-state map: per session id, the slot holding the newest state this process
//! produced. Bounded by bytes and by idle time. Only sessions that changed in this process are
//! in it, so a request whose cookie is current costs one lookup.

use super::slot::SessionSlot;
use std::sync::Arc;
use std::time::Duration;

/// How long a session's latest state is kept after its last use.
const TIME_TO_IDLE: Duration = Duration::from_secs(15 * 60);
/// The map's memory bound. A session with three ~900-byte access tokens and an ID token costs
/// about 7.5 KB in the map (measured by `benches/latest.rs`), so this holds about 35 000 changed
/// sessions; evicting one is safe once its browser has the latest cookie, which is nearly always.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

pub(super) struct LatestMap {
    cache: moka::sync::Cache<String, Arc<SessionSlot>>,
}

impl LatestMap {
    pub(super) fn new() -> Self {
        LatestMap {
            cache: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_sid: &String, slot: &Arc<SessionSlot>| slot.weight())
                .time_to_idle(TIME_TO_IDLE)
                .build(),
        }
    }

    pub(super) fn get(&self, sid: &str) -> Option<Arc<SessionSlot>> {
        self.cache.get(sid)
    }

    /// The slot of `sid`, made by `make` when there is none.
    pub(super) fn get_or_insert(
        &self,
        sid: &str,
        make: impl FnOnce() -> SessionSlot,
    ) -> Arc<SessionSlot> {
        self.cache.get_with(sid.to_owned(), || Arc::new(make()))
    }

    pub(super) fn insert(&self, sid: &str, slot: SessionSlot) {
        self.cache.insert(sid.to_owned(), Arc::new(slot));
    }

    pub(super) fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}
