//! 2xx answers: the access token, `token_type`, expiry, granted scope, the audience check.

use super::*;

#[test]
fn plain_success_defaults_the_scope_to_the_requested_one() {
    assert_eq!(
        judged_json(
            200,
            json!({"access_token":"abc","token_type":"Bearer","expires_in":3600})
        ),
        success("abc", "read", NOW + 3600)
    );
}

#[test]
fn success_reports_rotated_refresh_token_and_id_token() {
    let out = judged_json(
        200,
        json!({"access_token":"abc","expires_in":60,"refresh_token":"rt2","id_token":"idt",
               "scope":"read write"}),
    );
    assert_eq!(
        out,
        Exchange::Success {
            grant: Grant {
                access_token: "abc".into(),
                scope: Scope::parse("write read"),
                expires_at: NOW + 60,
            },
            refresh_token: Some("rt2".into()),
            id_token: Some("idt".into()),
        }
    );
    assert_eq!(out.refresh_token(), Some("rt2"));
}

#[test]
fn blank_refresh_and_id_tokens_are_absent() {
    let out = judged_json(
        200,
        json!({"access_token":"abc","expires_in":60,"refresh_token":" ","id_token":""}),
    );
    assert_eq!(out, success("abc", "read", NOW + 60));
}

#[test]
fn granted_scope_is_the_response_scope_even_when_narrower_or_empty() {
    let narrow = judged_json(
        200,
        json!({"access_token":"a","expires_in":60,"scope":"openid"}),
    );
    assert_eq!(narrow, success("a", "openid", NOW + 60));
    let empty = judged_json(200, json!({"access_token":"a","expires_in":60,"scope":""}));
    assert_eq!(empty, success("a", "", NOW + 60));
    let null = judged_json(
        200,
        json!({"access_token":"a","expires_in":60,"scope":null}),
    );
    assert_eq!(null, success("a", "read", NOW + 60));
    let number = judged_json(200, json!({"access_token":"a","scope":5}));
    assert_eq!(number, invalid("scope"));
}

#[test]
fn missing_or_blank_access_token() {
    for body in [
        json!({}),
        json!({"access_token":""}),
        json!({"access_token":"   "}),
        json!({"access_token":null}),
        json!({"access_token":42}),
        json!({"token_type":"Bearer","expires_in":60}),
    ] {
        assert_eq!(judged_json(200, body), invalid("missing_access_token"));
    }
}

#[test]
fn missing_access_token_still_reports_the_rotated_refresh_token() {
    assert_eq!(
        judged_json(200, json!({"access_token":"","refresh_token":"rt2"})),
        Exchange::InvalidResponse {
            reason: "missing_access_token",
            refresh_token: Some("rt2".into()),
        }
    );
}

#[test]
fn access_token_that_cannot_be_a_header_value_is_refused() {
    for token in ["ab cd", "abc\r\nX-Evil: 1", " abc", "caf\u{e9}", "a\tb"] {
        assert_eq!(
            judged_json(200, json!({"access_token": token})),
            invalid("access_token_charset"),
            "{token:?}"
        );
    }
}

#[test]
fn token_type_must_be_bearer_when_present() {
    let ok = |tt: Value| {
        judged_json(
            200,
            json!({"access_token":"a","expires_in":9,"token_type":tt}),
        )
    };
    assert_eq!(ok(json!("bearer")), success("a", "read", NOW + 9));
    assert_eq!(ok(json!("BEARER")), success("a", "read", NOW + 9));
    assert_eq!(ok(Value::Null), success("a", "read", NOW + 9));
    assert_eq!(ok(json!("DPoP")), invalid("token_type"));
    assert_eq!(ok(json!("mac")), invalid("token_type"));
    assert_eq!(ok(json!("")), invalid("token_type"));
    assert_eq!(ok(json!(1)), invalid("token_type"));
}

#[test]
fn expires_in_numbers_and_numeric_strings() {
    let exp = |v: Value| {
        expires_at(&judged_json(
            200,
            json!({"access_token":"a","expires_in":v}),
        ))
    };
    assert_eq!(exp(json!(3600)), Some(NOW + 3600));
    assert_eq!(exp(json!("3600")), Some(NOW + 3600));
    assert_eq!(exp(json!(" 120 ")), Some(NOW + 120));
    assert_eq!(exp(json!(3600.9)), Some(NOW + 3600));
    assert_eq!(exp(json!(1)), Some(NOW + 1));
    assert_eq!(exp(json!(u64::MAX)), Some(u64::MAX));
    assert_eq!(exp(json!(1e300)), Some(u64::MAX));
}

#[test]
fn expires_in_zero_negative_or_garbage_is_invalid() {
    for v in [
        json!(0),
        json!(-1),
        json!(-0.5),
        json!(0.4),
        json!("soon"),
        json!("-5"),
        json!("NaN"),
        json!("inf"),
        json!(true),
        json!([60]),
        json!({}),
    ] {
        assert_eq!(
            judged_json(200, json!({"access_token":"a","expires_in":v})),
            invalid("expires_in"),
            "{v}"
        );
    }
}

#[test]
fn a_token_already_past_its_jwt_exp_is_invalid() {
    // Found by the token_response fuzz target: `exp` in the past gave a Success that expired
    // before it was used.
    for exp in [NOW, NOW - 1, 1_800_000] {
        let expired = jwt(&json!({"aud":API,"exp":exp}));
        assert_eq!(
            judged_json(200, json!({"access_token":expired,"refresh_token":"rt2"})),
            Exchange::InvalidResponse {
                reason: "expired",
                refresh_token: Some("rt2".into()),
            },
            "exp {exp}"
        );
    }
    let fresh = jwt(&json!({"aud":API,"exp":NOW + 1}));
    assert_eq!(
        expires_at(&judged_json(200, json!({"access_token":fresh}))),
        Some(NOW + 1)
    );
}

#[test]
fn expiry_falls_back_to_jwt_exp_then_five_minutes() {
    let with_exp = jwt(&json!({"aud":API,"exp":NOW + 900}));
    assert_eq!(
        expires_at(&judged_json(200, json!({"access_token":with_exp}))),
        Some(NOW + 900)
    );
    let null_expires_in = json!({"access_token":with_exp,"expires_in":null});
    assert_eq!(
        expires_at(&judged_json(200, null_expires_in)),
        Some(NOW + 900)
    );
    // expires_in wins over exp.
    let both = json!({"access_token":with_exp,"expires_in":60});
    assert_eq!(expires_at(&judged_json(200, both)), Some(NOW + 60));

    let no_exp = jwt(&json!({"aud":API}));
    assert_eq!(
        expires_at(&judged_json(200, json!({"access_token":no_exp}))),
        Some(NOW + 300)
    );
    let bad_exp = jwt(&json!({"aud":API,"exp":"tomorrow"}));
    assert_eq!(
        expires_at(&judged_json(200, json!({"access_token":bad_exp}))),
        Some(NOW + 300)
    );
    assert_eq!(
        expires_at(&judged_json(200, json!({"access_token":"opaque"}))),
        Some(NOW + 300)
    );
}

#[test]
fn unparseable_success_bodies() {
    for body in [
        "<html><body>Service moved</body></html>",
        "",
        "[]",
        "\"access_token\"",
        "null",
        "{\"access_token\":\"a\"",
        "{\"access_token\":\"a\"} trailing",
    ] {
        assert_eq!(judged(200, body), invalid("unparseable"), "{body:?}");
    }
    assert_eq!(
        judge(200, &[0xff, 0xfe, b'{'], None, &Scope::empty(), NOW),
        invalid("unparseable")
    );
}

#[test]
fn any_2xx_is_judged_as_success() {
    assert_eq!(
        judged_json(201, json!({"access_token":"a","expires_in":5})),
        success("a", "read", NOW + 5)
    );
}

#[test]
fn jwt_for_another_audience_is_a_mismatch() {
    let other = jwt(&json!({"aud":"https://default.example.com","exp":NOW + 900}));
    assert_eq!(
        judged_json(200, json!({"access_token":other,"expires_in":60})),
        Exchange::AudienceMismatch {
            refresh_token: None
        }
    );
    assert_eq!(
        judged_json(200, json!({"access_token":other,"refresh_token":"rt2"})),
        Exchange::AudienceMismatch {
            refresh_token: Some("rt2".into())
        }
    );
}

#[test]
fn jwt_audience_array_must_contain_the_requested_audience() {
    let with = jwt(&json!({"aud":["https://x", API]}));
    assert_eq!(
        judged_json(200, json!({"access_token":with,"expires_in":60})),
        success(&with, "read", NOW + 60)
    );
    let without = jwt(&json!({"aud":["https://x","https://api.example.com/"]}));
    assert_eq!(
        judged_json(200, json!({"access_token":without})),
        Exchange::AudienceMismatch {
            refresh_token: None
        }
    );
    for malformed in [json!(7), json!([]), json!([1, 2]), json!({"a":API})] {
        let token = jwt(&json!({ "aud": malformed }));
        assert_eq!(
            judged_json(200, json!({"access_token":token})),
            Exchange::AudienceMismatch {
                refresh_token: None
            },
            "{malformed}"
        );
    }
}

#[test]
fn tokens_without_a_readable_aud_are_accepted() {
    for token in [
        "opaque-token".to_owned(),
        jwt(&json!({"sub":"u"})),
        jwt(&json!({"aud":null})),
        "a.b.c".to_owned(), // three segments, but the middle one is not a JSON object
    ] {
        assert_eq!(
            judged_json(200, json!({"access_token":token,"expires_in":60})),
            success(&token, "read", NOW + 60)
        );
    }
}

#[test]
fn no_requested_audience_means_no_audience_check() {
    let other = jwt(&json!({"aud":"https://default.example.com"}));
    let body = json!({"access_token":other,"expires_in":60}).to_string();
    assert_eq!(
        judge(200, body.as_bytes(), None, &Scope::empty(), NOW),
        success(&other, "", NOW + 60)
    );
}
