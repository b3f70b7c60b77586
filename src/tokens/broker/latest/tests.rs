//! The map's own eviction decision: what it must keep (held, unacknowledged), what it may drop
//! (least recently used first), and that its weight follows a slot's growth.

use super::*;
use crate::session::model::{Session, TokenSet, User};
use crate::tokens::broker::slot::SlotState;
use crate::tokens::scope::Scope;

fn session(sid: &str, version: u64) -> Arc<Session> {
    let mut s = Session::new(
        User {
            sub: "u".into(),
            ..User::default()
        },
        now(),
    );
    s.sid = sid.into();
    s.version = version;
    s.refresh_token = Some("rt".into());
    Arc::new(s)
}

/// A slot for `sid` whose version `1` the browser presented (evictable when nobody holds it).
fn acknowledged(map: &LatestMap, sid: &str) -> Result<Arc<SessionSlot>, Full> {
    let s = session(sid, 1);
    let slot = map.get_or_insert(sid, || SessionSlot::new(SlotState::Live(s.clone())))?;
    slot.observe(&s);
    Ok(slot)
}

/// One slot's weight, as the map counts it.
fn one_weight() -> u64 {
    u64::from(SessionSlot::new(SlotState::Live(session("x", 1))).weight())
}

#[test]
fn acknowledged_slots_are_evicted_least_recently_used_first() {
    let map = LatestMap::new();
    map.set_bound(one_weight() * 10);
    for i in 0..10 {
        let slot = acknowledged(&map, &format!("s{i}")).expect("room");
        slot.used(i);
    }
    acknowledged(&map, "new").expect("room made by eviction");
    assert!(map.bytes() <= one_weight() * 10);
    assert!(
        map.get("s0").is_none(),
        "the least recently used went first"
    );
    assert!(map.get("s9").is_some());
}

#[test]
fn a_held_or_unacknowledged_slot_is_never_evicted_and_a_full_map_says_so() {
    let map = LatestMap::new();
    map.set_bound(one_weight() * 4);
    // Held by a request (an exchange in flight, a response not yet written).
    let held: Vec<_> = (0..2)
        .map(|i| acknowledged(&map, &format!("held{i}")).expect("room"))
        .collect();
    // A newer version the browser has not presented back.
    for i in 0..2 {
        let slot = acknowledged(&map, &format!("new{i}")).expect("room");
        slot.set(SlotState::Live(session(&format!("new{i}"), 2)));
    }
    assert!(
        acknowledged(&map, "another").is_err(),
        "the map is full of pinned slots"
    );
    for sid in ["held0", "held1", "new0", "new1"] {
        assert!(map.get(sid).is_some(), "{sid} was dropped");
    }
    // The browser presents version 2 of new0: it becomes evictable, and makes room.
    map.get("new0").expect("kept").observe(&session("new0", 2));
    assert!(acknowledged(&map, "another").is_ok());
    assert!(map.get("new0").is_none());
    drop(held);
}

#[test]
fn the_weight_follows_a_slots_growth() {
    let map = LatestMap::new();
    let slot = acknowledged(&map, "s").expect("room");
    let before = map.bytes();
    let mut bigger = (*session("s", 2)).clone();
    bigger.extra.push(TokenSet {
        audience: Some("https://a.example".into()),
        scope: Scope::parse("read"),
        requested: Scope::parse("read"),
        access_token: "t".repeat(5000),
        expires_at: now() + 3600,
        last_used: now(),
    });
    slot.set(SlotState::Live(Arc::new(bigger)));
    assert!(map.bytes() >= before + 5000);
    slot.set(SlotState::Ended);
    assert!(map.bytes() < before);
}

#[test]
fn a_logout_is_remembered_beyond_a_full_bound() {
    let map = LatestMap::new();
    map.set_bound(one_weight());
    let _held = acknowledged(&map, "held").expect("room");
    assert!(map.insert_anyway("ended", SessionSlot::new(SlotState::Ended)));
    assert!(map.get("ended").is_some());
}
