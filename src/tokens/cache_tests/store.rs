//! `store`, `prune` and `touch`: what replaces what, expired and surplus entries, LRU order.

use super::*;

#[test]
fn store_replaces_the_primary_only_for_its_audience_and_a_covering_grant() {
    let primary = tok(None, "openid profile", "openid profile", NOW + 100);

    let mut s = session(Some(primary.clone()), vec![]);
    store(
        &mut s,
        tok(None, "profile openid email", "openid profile email", LATER),
        NOW,
        LEEWAY,
        16,
    );
    assert_eq!(s.primary.as_ref().map(|p| p.expires_at), Some(LATER));
    assert_eq!(s.primary.as_ref().map(|p| p.last_used), Some(NOW));
    assert!(s.extra.is_empty());

    // Narrower than the primary's grant: kept aside, the primary stays.
    let mut s = session(Some(primary.clone()), vec![]);
    store(
        &mut s,
        tok(None, "openid", "openid", LATER),
        NOW,
        LEEWAY,
        16,
    );
    assert_eq!(s.primary, Some(primary.clone()));
    assert_eq!(s.extra.len(), 1);

    // Another audience never replaces the primary.
    let mut s = session(Some(primary.clone()), vec![]);
    store(
        &mut s,
        tok(Some("api"), "openid profile", "openid profile", LATER),
        NOW,
        LEEWAY,
        16,
    );
    assert_eq!(s.primary, Some(primary));
    assert_eq!(s.extra.len(), 1);
}

#[test]
fn store_without_a_primary_keeps_the_token_as_extra() {
    let mut s = session(None, vec![]);
    store(&mut s, tok(None, "a", "a", LATER), NOW, LEEWAY, 16);
    assert_eq!(s.primary, None);
    assert_eq!(s.extra.len(), 1);
    assert_eq!(s.extra.first().map(|t| t.last_used), Some(NOW));
}

#[test]
fn storing_the_same_audience_and_requested_scope_twice_keeps_one_entry() {
    let mut s = session(None, vec![]);
    store(
        &mut s,
        tok(Some("api"), "r", "r w", NOW + 500),
        NOW,
        LEEWAY,
        16,
    );
    store(
        &mut s,
        tok(Some("api"), "r w", "w r", LATER),
        NOW + 1,
        LEEWAY,
        16,
    );
    assert_eq!(s.extra.len(), 1);
    let only = s.extra.first().cloned();
    assert_eq!(only.as_ref().map(|t| t.expires_at), Some(LATER));
    assert_eq!(
        only.as_ref().map(|t| t.scope.to_string()),
        Some("r w".into())
    );
    assert_eq!(only.map(|t| t.last_used), Some(NOW + 1));
    // Same requested scope, other audience: a second entry.
    store(&mut s, tok(Some("b"), "r", "r w", LATER), NOW, LEEWAY, 16);
    assert_eq!(s.extra.len(), 2);
}

#[test]
fn blank_access_token_is_never_stored() {
    let mut s = session(None, vec![]);
    let mut t = tok(Some("api"), "r", "r", LATER);
    t.access_token = "  ".into();
    store(&mut s, t, NOW, LEEWAY, 16);
    assert!(s.extra.is_empty());
    assert_eq!(
        select(&s, Some("api"), &sc("r"), NOW, LEEWAY),
        Selection::Miss
    );
}

#[test]
fn forty_expired_entries_are_all_pruned_on_one_write() {
    let expired: Vec<TokenSet> = (0..40)
        .map(|i| tok(Some(&format!("api{i}")), "r", "r", NOW - 1000 + i * 26))
        .collect();
    let mut s = session(None, expired);
    store(&mut s, tok(Some("new"), "r", "r", LATER), NOW, LEEWAY, 16);
    assert_eq!(s.extra.len(), 1);
    assert_eq!(
        s.extra.first().and_then(|t| t.audience.clone()),
        Some("new".into())
    );
}

#[test]
fn lru_drops_the_least_recently_used_with_max_cached_two() {
    let mut s = session(
        None,
        vec![
            used(tok(Some("a"), "r", "r", LATER), NOW - 10),
            used(tok(Some("b"), "r", "r", LATER), NOW - 30),
            used(tok(Some("c"), "r", "r", LATER), NOW - 20),
        ],
    );
    prune(&mut s, NOW, LEEWAY, 2);
    let left: Vec<_> = s.extra.iter().filter_map(|t| t.audience.clone()).collect();
    assert_eq!(left, ["a", "c"]);

    // Storing a third evicts the older of the two; the fresh one stays.
    store(&mut s, tok(Some("d"), "r", "r", LATER), NOW, LEEWAY, 2);
    let left: Vec<_> = s.extra.iter().filter_map(|t| t.audience.clone()).collect();
    assert_eq!(left, ["a", "d"]);
}

#[test]
fn lru_ties_drop_the_earliest_and_never_the_fresh_token() {
    let mut s = session(
        None,
        vec![
            used(tok(Some("a"), "r", "r", LATER), NOW),
            used(tok(Some("b"), "r", "r", LATER), NOW),
        ],
    );
    // Replaces "a" (same audience and requested scope): it moves to the end.
    store(&mut s, tok(Some("a"), "r", "r", LATER + 1), NOW, LEEWAY, 1);
    assert_eq!(s.extra.len(), 1);
    assert_eq!(s.extra.first().map(|t| t.expires_at), Some(LATER + 1));
}

#[test]
fn prune_drops_an_expired_primary() {
    let mut s = session(Some(tok(None, "openid", "openid", NOW - 5000)), vec![]);
    prune(&mut s, NOW, LEEWAY, 16);
    assert_eq!(s.primary, None);
}

#[test]
fn prune_never_drops_a_usable_primary_and_zero_keeps_no_extra() {
    let primary = tok(None, "openid", "openid", LATER);
    let mut s = session(
        Some(primary.clone()),
        vec![
            tok(Some("a"), "r", "r", LATER),
            tok(Some("b"), "r", "r", LATER),
        ],
    );
    prune(&mut s, NOW, LEEWAY, 0);
    assert_eq!(s.primary, Some(primary));
    assert!(s.extra.is_empty());
}

#[test]
fn prune_keeps_usable_entries_within_the_bound_in_order() {
    let extra = vec![
        tok(Some("a"), "r", "r", LATER),
        tok(Some("b"), "r", "r", NOW + LEEWAY),
        tok(Some("c"), "r", "r", NOW + LEEWAY + 1),
    ];
    let mut s = session(None, extra);
    prune(&mut s, NOW, LEEWAY, 16);
    let left: Vec<_> = s.extra.iter().filter_map(|t| t.audience.clone()).collect();
    assert_eq!(left, ["a", "c"]);
}

#[test]
fn touch_marks_the_entry_select_would_hit() {
    let mut s = session(
        Some(tok(Some("api"), "r", "r", LATER)),
        vec![
            used(tok(Some("api"), "w", "w", NOW + 30), 5), // within the leeway: not a hit
            used(tok(Some("api"), "w", "w", LATER), 5),
            used(tok(Some("api"), "w", "w", LATER + 1), 5),
        ],
    );
    assert!(touch(&mut s, Some("api"), &sc("w"), NOW, LEEWAY));
    let marks: Vec<_> = s.extra.iter().map(|t| t.last_used).collect();
    assert_eq!(marks, [5, NOW, 5]);
    // Already marked this second: nothing changes.
    assert!(!touch(&mut s, Some("api"), &sc("w"), NOW, LEEWAY));
    // A miss marks nothing.
    assert!(!touch(&mut s, Some("other"), &sc("w"), NOW + 1, LEEWAY));
    let marks: Vec<_> = s.extra.iter().map(|t| t.last_used).collect();
    assert_eq!(marks, [5, NOW, 5]);
}

#[test]
fn touch_leaves_the_primary_alone() {
    let primary = used(tok(Some("api"), "r w", "r w", LATER), 7);
    let mut s = session(
        Some(primary.clone()),
        vec![used(tok(Some("api"), "r", "r", LATER), 7)],
    );
    assert!(!touch(&mut s, Some("api"), &sc("r"), NOW, LEEWAY));
    assert_eq!(s.primary, Some(primary));
    assert_eq!(s.extra.first().map(|t| t.last_used), Some(7));
}

#[test]
fn touched_entry_survives_lru_eviction() {
    let mut s = session(
        None,
        vec![
            used(tok(Some("a"), "r", "r", LATER), NOW - 50),
            used(tok(Some("b"), "r", "r", LATER), NOW - 40),
        ],
    );
    assert!(touch(&mut s, Some("a"), &sc("r"), NOW, LEEWAY));
    prune(&mut s, NOW, LEEWAY, 1);
    assert_eq!(
        s.extra.first().and_then(|t| t.audience.clone()),
        Some("a".into())
    );
    assert_eq!(s.extra.len(), 1);
}
