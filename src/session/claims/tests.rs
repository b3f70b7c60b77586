use super::*;
use serde_json::json;

fn used(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn source(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("an object"),
    }
}

#[test]
fn only_used_claims_are_kept_and_missing_ones_are_remembered_as_lacking() {
    let token = source(json!({
        "sub": "alice", "email": "a@example.com", "groups": ["admins", "ops"],
        "email_verified": true, "locale": "fr", "acr": "urn:mfa", "level": 3,
    }));
    let c = Claims::keep(
        &token,
        &used(&["groups", "email_verified", "department", "level"]),
    );
    assert_eq!(c.held.len(), 3);
    assert_eq!(c.get("groups"), Known::Value(&json!(["admins", "ops"])));
    assert_eq!(c.get("email_verified"), Known::Value(&json!(true)));
    assert_eq!(c.get("level"), Known::Value(&json!(3)));
    assert_eq!(c.get("department"), Known::Absent);
    assert_eq!(
        c.get("locale"),
        Known::Unknown,
        "present in the token but not used"
    );
    assert_eq!(c.get("acr"), Known::Unknown);
}

#[test]
fn user_claims_are_never_duplicated_here() {
    let token = source(json!({"sub": "alice", "email": "a@example.com", "name": "A"}));
    let c = Claims::keep(&token, &used(&["sub", "email", "name", "sid"]));
    assert!(c.is_empty());
}

#[test]
fn objects_and_nulls_are_not_kept_and_arrays_keep_only_scalars() {
    let token = source(json!({
        "address": {"country": "FR"}, "nothing": null,
        "mixed": ["a", 1, true, {"x": 1}, ["nested"], null],
    }));
    let c = Claims::keep(&token, &used(&["address", "nothing", "mixed"]));
    assert_eq!(c.get("address"), Known::Absent);
    assert_eq!(c.get("nothing"), Known::Absent);
    assert_eq!(c.get("mixed"), Known::Value(&json!(["a", 1, true])));
}

#[test]
fn an_empty_set_serialises_to_nothing_and_old_sessions_read_as_knowing_nothing() {
    let c = Claims::default();
    assert!(c.is_empty());
    assert_eq!(serde_json::to_string(&c).unwrap(), "{}");
    let old: Claims = serde_json::from_str("{}").unwrap();
    assert_eq!(old.get("groups"), Known::Unknown);
}

#[test]
fn the_serialised_form_uses_short_names() {
    let token = source(json!({"groups": ["a"]}));
    let c = Claims::keep(&token, &used(&["groups", "acr"]));
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        r#"{"h":{"groups":["a"]},"n":["acr"]}"#
    );
}

#[test]
fn after_a_refresh_a_claim_only_userinfo_gave_keeps_its_value() {
    let names = used(&["groups", "department", "level"]);
    let at_login = Claims::keep(
        &source(json!({"groups": ["a"], "department": "research"})),
        &names,
    );
    let id_token = Claims::keep(&source(json!({"groups": ["b"]})), &names);
    let merged = id_token.clone().refreshed_over(&at_login);
    assert_eq!(
        merged.get("groups"),
        Known::Value(&json!(["b"])),
        "the token's value wins"
    );
    assert_eq!(merged.get("department"), Known::Value(&json!("research")));
    assert_eq!(merged.get("level"), Known::Absent, "lacking before and now");
    assert_eq!(
        id_token.get("department"),
        Known::Absent,
        "without userinfo the token rules"
    );
}
