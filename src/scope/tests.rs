use super::*;
use proptest::prelude::*;

#[test]
fn order_and_whitespace_do_not_matter() {
    assert_eq!(Scope::parse("b  a"), Scope::parse(" a b "));
    assert_eq!(Scope::parse("b a a").to_string(), "a b");
}

#[test]
fn covers_is_subset() {
    let granted = Scope::parse("read:orders write:orders openid");
    assert!(granted.covers(&Scope::parse("read:orders")));
    assert!(granted.covers(&Scope::parse("write:orders read:orders")));
    assert!(granted.covers(&Scope::empty()));
    assert!(!granted.covers(&Scope::parse("read:orders admin")));
    assert!(!Scope::empty().covers(&Scope::parse("a")));
}

#[test]
fn covers_does_not_match_prefixes() {
    assert!(!Scope::parse("read:order").covers(&Scope::parse("read:orders")));
    assert!(!Scope::parse("read:orders").covers(&Scope::parse("read:order")));
}

#[test]
fn missing_lists_what_the_grant_lacks() {
    let granted = Scope::parse("a b");
    assert_eq!(granted.missing(&Scope::parse("a c d")).to_string(), "c d");
    assert!(granted.missing(&Scope::parse("b")).is_empty());
}

#[test]
fn serde_round_trip_is_the_canonical_string() {
    let s = Scope::parse("z a");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, "\"a z\"");
    assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), s);
}

proptest! {
    #[test]
    fn union_covers_both(a in "[a-c ]{0,12}", b in "[a-c ]{0,12}") {
        let (a, b) = (Scope::parse(&a), Scope::parse(&b));
        let u = a.union(&b);
        prop_assert!(u.covers(&a) && u.covers(&b));
        prop_assert!(a.missing(&b).is_empty() == a.covers(&b));
    }
}
