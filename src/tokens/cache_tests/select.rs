//! `select` and `is_usable`: granted vs requested scope, the leeway edge, primary vs additional
//! tokens, audiences, narrow grants.

use super::*;

#[test]
fn usable_only_strictly_before_the_leeway_edge() {
    let t = |e| tok(None, "a", "a", e);
    assert!(is_usable(&t(NOW + LEEWAY + 1), NOW, LEEWAY));
    assert!(!is_usable(&t(NOW + LEEWAY), NOW, LEEWAY));
    assert!(!is_usable(&t(NOW + LEEWAY - 1), NOW, LEEWAY));
    assert!(is_usable(&t(NOW + 1), NOW, 0));
    assert!(!is_usable(&t(NOW), NOW, 0));
}

#[test]
fn leeway_larger_than_expiry_does_not_underflow() {
    assert!(!is_usable(&tok(None, "a", "a", 30), 0, 60));
    assert!(!is_usable(&tok(None, "a", "a", 0), 0, u64::MAX));
    assert!(is_usable(&tok(None, "a", "a", u64::MAX), u64::MAX - 61, 60));
}

#[test]
fn select_at_the_leeway_edge_both_sides() {
    let s = session(None, vec![tok(Some("api"), "r", "r", NOW + LEEWAY)]);
    assert_eq!(
        select(&s, Some("api"), &sc("r"), NOW, LEEWAY),
        Selection::Miss
    );
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("r"), NOW - 1, LEEWAY)),
        format!("at-api-r-{}", NOW + LEEWAY)
    );
}

#[test]
fn granted_narrower_than_requested_is_never_a_hit() {
    let s = session(None, vec![tok(Some("api"), "read", "read write", LATER)]);
    assert_eq!(
        select(&s, Some("api"), &sc("read write"), NOW, LEEWAY),
        Selection::NarrowGrant {
            missing: sc("write")
        }
    );
    // What was granted is served, for a route that needs no more.
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("read"), NOW, LEEWAY)),
        format!("at-api-read-{LATER}")
    );
}

#[test]
fn a_broader_grant_serves_a_narrower_route_scope() {
    let s = session(
        None,
        vec![tok(Some("api"), "read write admin", "read", LATER)],
    );
    assert!(matches!(
        select(&s, Some("api"), &sc("write read"), NOW, LEEWAY),
        Selection::Hit(t) if t.scope == sc("admin read write")
    ));
    assert!(matches!(
        select(&s, Some("api"), &Scope::empty(), NOW, LEEWAY),
        Selection::Hit(_)
    ));
}

#[test]
fn primary_is_preferred_over_an_equally_good_extra() {
    let s = session(
        Some(tok(Some("api"), "read", "read", LATER)),
        vec![tok(Some("api"), "read", "read", LATER + 5)],
    );
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("read"), NOW, LEEWAY)),
        format!("at-api-read-{LATER}")
    );
}

#[test]
fn extra_serves_when_the_primary_does_not() {
    let extra = vec![
        tok(Some("other"), "read write", "read write", LATER),
        tok(Some("api"), "read write", "read write", LATER + 1),
        tok(Some("api"), "read write", "write", LATER + 2),
    ];
    // Primary lacks the scope: the first matching extra wins.
    let s = session(Some(tok(Some("api"), "read", "read", LATER)), extra.clone());
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("write"), NOW, LEEWAY)),
        format!("at-api-read write-{}", LATER + 1)
    );
    // Primary covers but has expired.
    let s = session(
        Some(tok(Some("api"), "read write", "x", NOW)),
        extra.clone(),
    );
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("read"), NOW, LEEWAY)),
        format!("at-api-read write-{}", LATER + 1)
    );
    // Primary is for another audience.
    let s = session(Some(tok(Some("login"), "read write", "x", LATER)), extra);
    assert_eq!(
        hit_token(&select(&s, Some("other"), &sc("read"), NOW, LEEWAY)),
        format!("at-other-read write-{LATER}")
    );
}

#[test]
fn expired_extra_entries_are_skipped_for_a_later_usable_one() {
    let s = session(
        None,
        vec![
            tok(Some("api"), "r", "r", NOW + 10),
            tok(Some("api"), "r", "r", LATER),
        ],
    );
    assert_eq!(
        hit_token(&select(&s, Some("api"), &sc("r"), NOW, LEEWAY)),
        format!("at-api-r-{LATER}")
    );
}

#[test]
fn audience_none_matches_only_none() {
    let s = session(Some(tok(None, "r", "r", LATER)), vec![]);
    assert!(matches!(
        select(&s, None, &sc("r"), NOW, LEEWAY),
        Selection::Hit(_)
    ));
    assert_eq!(
        select(&s, Some("api"), &sc("r"), NOW, LEEWAY),
        Selection::Miss
    );

    let s = session(None, vec![tok(Some("api"), "r", "r", LATER)]);
    assert_eq!(select(&s, None, &sc("r"), NOW, LEEWAY), Selection::Miss);
    assert_eq!(select(&s, Some(""), &sc("r"), NOW, LEEWAY), Selection::Miss);
}

#[test]
fn empty_session_is_a_miss() {
    let s = session(None, vec![]);
    assert_eq!(
        select(&s, None, &Scope::empty(), NOW, LEEWAY),
        Selection::Miss
    );
}

#[test]
fn narrow_grant_needs_the_same_requested_scope_and_audience() {
    let s = session(None, vec![tok(Some("api"), "read", "read write", LATER)]);
    assert_eq!(
        select(&s, Some("api"), &sc("read admin"), NOW, LEEWAY),
        Selection::Miss
    );
    assert_eq!(
        select(&s, Some("other"), &sc("read write"), NOW, LEEWAY),
        Selection::Miss
    );
    // Requested scope compared as a set: order does not matter.
    assert_eq!(
        select(&s, Some("api"), &sc("write  read"), NOW, LEEWAY),
        Selection::NarrowGrant {
            missing: sc("write")
        }
    );
}

#[test]
fn narrow_grant_after_storing_a_narrow_token_then_miss_after_expiry() {
    let mut s = session(Some(tok(None, "openid", "openid", LATER)), vec![]);
    let expires = NOW + 600;
    store(
        &mut s,
        tok(Some("api"), "read", "read write", expires),
        NOW,
        LEEWAY,
        16,
    );
    assert_eq!(s.extra.len(), 1);
    let route = sc("read write");
    assert_eq!(
        select(&s, Some("api"), &route, NOW + 1, LEEWAY),
        Selection::NarrowGrant {
            missing: sc("write")
        }
    );
    assert_eq!(
        select(&s, Some("api"), &route, expires - LEEWAY - 1, LEEWAY),
        Selection::NarrowGrant {
            missing: sc("write")
        }
    );
    assert_eq!(
        select(&s, Some("api"), &route, expires - LEEWAY, LEEWAY),
        Selection::Miss
    );
}

#[test]
fn narrow_grant_that_replaced_the_primary_is_still_recognised() {
    // The new token covers the old primary's grant ("a"), so it replaces the primary, but it
    // was asked for "a b" and granted only "a".
    let mut s = session(Some(tok(Some("api"), "a", "a", LATER)), vec![]);
    store(
        &mut s,
        tok(Some("api"), "a", "a b", LATER + 1),
        NOW,
        LEEWAY,
        16,
    );
    assert!(s.extra.is_empty());
    assert_eq!(s.primary.as_ref().map(|p| p.expires_at), Some(LATER + 1));
    assert_eq!(
        select(&s, Some("api"), &sc("a b"), NOW, LEEWAY),
        Selection::NarrowGrant { missing: sc("b") }
    );
}
