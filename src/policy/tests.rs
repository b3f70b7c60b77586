//! The policy as a pure function: every kind of claim value against every kind of requirement,
//! and the order of verdicts when several requirements fail.

use super::*;
use crate::session::claims::Claims;
use crate::session::model::User;
use serde_json::{json, Map};

/// A policy from `(claim, [values])` pairs.
fn policy(keys: &[(&str, &[&str])]) -> Policy {
    Policy::new(
        keys.iter()
            .map(|(claim, values)| Requirement {
                claim: (*claim).to_owned(),
                accepted: values.iter().map(|v| Glob::new(v)).collect(),
            })
            .collect(),
    )
}

/// A session whose user is alice with `claims` kept out of the `used` names.
fn session(claims: Value, used: &[&str]) -> Session {
    let user = User {
        sub: "alice".into(),
        name: Some("Alice".into()),
        email: Some("alice@example.com".into()),
        sid: None,
    };
    let mut s = Session::new(user, 1);
    let map: Map<String, Value> = match claims {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    s.claims = Claims::keep(&map, &used_claims(used.iter().copied()));
    s
}

fn verdict(p: &Policy, s: &Session) -> String {
    format!("{:?}", evaluate(p, s))
}

#[test]
fn an_empty_policy_allows_everyone() {
    let s = session(json!({}), &[]);
    assert_eq!(evaluate(&Policy::default(), &s), Verdict::Allow);
    assert!(Policy::default().is_empty());
}

#[test]
fn a_string_claim_holds_when_it_matches_one_of_the_values() {
    let s = session(json!({"department": "sales"}), &["department"]);
    for (values, holds) in [
        (&["sales"][..], true),
        (&["hr", "sales"][..], true),
        (&["Sales"][..], false),
        (&["sale"][..], false),
        (&["s*"][..], true),
        (&["*"][..], true),
        (&["hr"][..], false),
    ] {
        let p = policy(&[("department", values)]);
        let expected = if holds {
            Verdict::Allow
        } else {
            Verdict::Deny {
                claim: "department",
            }
        };
        assert_eq!(evaluate(&p, &s), expected, "{values:?}");
    }
}

#[test]
fn an_array_claim_holds_when_one_item_matches_one_value() {
    let s = session(json!({"groups": ["staff", "ops"]}), &["groups"]);
    assert_eq!(
        evaluate(&policy(&[("groups", &["admins", "ops"])]), &s),
        Verdict::Allow
    );
    assert_eq!(
        evaluate(&policy(&[("groups", &["op*"])]), &s),
        Verdict::Allow
    );
    assert_eq!(
        evaluate(&policy(&[("groups", &["admins"])]), &s),
        Verdict::Deny { claim: "groups" }
    );
    let empty = session(json!({"groups": []}), &["groups"]);
    assert_eq!(
        evaluate(&policy(&[("groups", &["*"])]), &empty),
        Verdict::Deny { claim: "groups" },
        "an empty array has no item to match, not even *"
    );
}

#[test]
fn booleans_and_integers_compare_as_text() {
    let p = policy(&[("email_verified", &["true"])]);
    for (value, holds) in [
        (json!(true), true),
        (json!("true"), true),
        (json!(false), false),
        (json!("false"), false),
        (json!(1), false),
        (json!("yes"), false),
    ] {
        let s = session(json!({ "email_verified": value }), &["email_verified"]);
        assert_eq!(evaluate(&p, &s) == Verdict::Allow, holds, "{value}");
    }
    let level = policy(&[("level", &["2", "3"])]);
    let s = session(json!({"level": 3}), &["level"]);
    assert_eq!(evaluate(&level, &s), Verdict::Allow);
    let s = session(json!({"level": 3.5}), &["level"]);
    assert_eq!(evaluate(&level, &s), Verdict::Deny { claim: "level" });
    let s = session(json!({"level": [1, 3]}), &["level"]);
    assert_eq!(evaluate(&level, &s), Verdict::Allow);
}

#[test]
fn a_missing_claim_fails_its_requirement() {
    let s = session(json!({}), &["groups"]);
    assert_eq!(
        evaluate(&policy(&[("groups", &["*"])]), &s),
        Verdict::Deny { claim: "groups" }
    );
}

#[test]
fn user_claims_come_from_the_session_user() {
    let s = session(json!({}), &[]);
    assert_eq!(
        evaluate(&policy(&[("email", &["*@example.com"])]), &s),
        Verdict::Allow
    );
    assert_eq!(
        evaluate(&policy(&[("email", &["*@example.org"])]), &s),
        Verdict::Deny { claim: "email" }
    );
    assert_eq!(
        evaluate(&policy(&[("sub", &["alice"])]), &s),
        Verdict::Allow
    );
    assert_eq!(evaluate(&policy(&[("name", &["Al*"])]), &s), Verdict::Allow);
    assert_eq!(
        evaluate(&policy(&[("sid", &["*"])]), &s),
        Verdict::Deny { claim: "sid" },
        "the user has no provider sid"
    );
}

#[test]
fn every_key_must_hold() {
    let s = session(
        json!({"groups": ["admins"], "email_verified": false}),
        &["groups", "email_verified"],
    );
    let p = policy(&[
        ("groups", &["admins"]),
        ("email", &["*@example.com"]),
        ("email_verified", &["true"]),
    ]);
    assert_eq!(
        evaluate(&p, &s),
        Verdict::Deny {
            claim: "email_verified"
        }
    );
}

#[test]
fn a_claim_the_session_did_not_keep_is_unknown_not_denied() {
    let s = session(json!({"groups": ["admins"]}), &["groups"]);
    let p = policy(&[("department", &["sales"]), ("groups", &["admins"])]);
    assert_eq!(
        evaluate(&p, &s),
        Verdict::Unknown {
            claim: "department"
        }
    );
}

#[test]
fn acr_failing_alone_asks_for_a_step_up_with_the_accepted_values() {
    let p = policy(&[("acr", &["urn:mfa", "urn:hw"]), ("groups", &["admins"])]);
    let weak = session(
        json!({"acr": "urn:pwd", "groups": ["admins"]}),
        &["acr", "groups"],
    );
    assert_eq!(
        evaluate(&p, &weak),
        Verdict::StepUp {
            acr_values: "urn:mfa urn:hw"
        }
    );
    let strong = session(
        json!({"acr": "urn:hw", "groups": ["admins"]}),
        &["acr", "groups"],
    );
    assert_eq!(evaluate(&p, &strong), Verdict::Allow);
    let no_acr = session(json!({"groups": ["admins"]}), &["acr", "groups"]);
    assert_eq!(verdict(&p, &no_acr), verdict(&p, &weak));
    let acr_unknown = session(json!({"groups": ["admins"]}), &["groups"]);
    assert_eq!(
        verdict(&p, &acr_unknown),
        verdict(&p, &weak),
        "a session that did not keep acr gets it from the step-up login"
    );
}

#[test]
fn another_failing_claim_wins_over_a_step_up_which_could_not_fix_it() {
    // Listed first in the file, acr is still checked last.
    let p = policy(&[("acr", &["urn:mfa"]), ("groups", &["admins"])]);
    let s = session(
        json!({"acr": "urn:pwd", "groups": ["staff"]}),
        &["acr", "groups"],
    );
    assert_eq!(evaluate(&p, &s), Verdict::Deny { claim: "groups" });
}

#[test]
fn claim_names_of_a_policy_and_the_used_set() {
    let p = policy(&[("acr", &["x"]), ("groups", &["a"]), ("email", &["*"])]);
    let names: Vec<&str> = p.claims().collect();
    assert_eq!(names, ["groups", "email", "acr"]);
    let used = used_claims(p.claims().chain(["sub", "groups"]));
    assert_eq!(used, ["acr", "groups"].map(str::to_owned).into());
}

/// Evaluation never panics, whatever the claim values and patterns.
#[test]
fn evaluation_is_total_over_odd_values() {
    let odd = json!({
        "a": null, "b": {"x": 1}, "c": [[1]], "d": "", "e": "ü*", "f": -0, "g": 1e300,
    });
    let names = ["a", "b", "c", "d", "e", "f", "g"];
    let s = session(odd, &names);
    for name in names {
        for pattern in ["", "*", "**", "ü*", "0", "-0", "1e300", "*x*"] {
            let _ = evaluate(&policy(&[(name, &[pattern])]), &s);
        }
    }
}
