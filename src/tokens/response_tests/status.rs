//! Error and unusual statuses, the size bound, redaction, JWT decoding, and the no-panic
//! properties.

use super::*;

#[test]
fn invalid_grant_on_400_and_401_only() {
    let body = json!({"error":"invalid_grant","error_description":"reused"});
    assert_eq!(judged_json(400, body.clone()), Exchange::InvalidGrant);
    assert_eq!(judged_json(401, body.clone()), Exchange::InvalidGrant);
    assert_eq!(
        judged_json(403, body),
        Exchange::Denied {
            code: "invalid_grant".into(),
            refresh_token: None
        }
    );
}

#[test]
fn other_4xx_are_denied_with_the_error_code_and_any_rotated_refresh_token() {
    assert_eq!(
        judged_json(400, json!({"error":"invalid_scope","refresh_token":"rt2"})),
        Exchange::Denied {
            code: "invalid_scope".into(),
            refresh_token: Some("rt2".into())
        }
    );
    assert_eq!(
        judged_json(401, json!({"error":"invalid_client"})),
        Exchange::Denied {
            code: "invalid_client".into(),
            refresh_token: None
        }
    );
}

#[test]
fn error_code_falls_back_to_the_status_and_is_sanitised() {
    let code = |status, body: &str| match judged(status, body) {
        Exchange::Denied { code, .. } => code,
        other => panic!("expected Denied, got {other:?}"),
    };
    assert_eq!(code(404, ""), "http_404");
    assert_eq!(code(400, "<html>Bad Request</html>"), "http_400");
    assert_eq!(code(403, r#"{"error_description":"no"}"#), "http_403");
    assert_eq!(code(403, r#"{"error":null}"#), "http_403");
    assert_eq!(
        code(400, r#"{"error":"<script>x</script>"}"#),
        "invalid_error_code"
    );
    assert_eq!(code(400, r#"{"error":"a b"}"#), "invalid_error_code");
    assert_eq!(code(400, r#"{"error":""}"#), "invalid_error_code");
    assert_eq!(code(400, r#"{"error":42}"#), "invalid_error_code");
    let long = "x".repeat(65);
    assert_eq!(
        code(400, &json!({ "error": long }).to_string()),
        "invalid_error_code"
    );
    let max = "x".repeat(64);
    assert_eq!(code(400, &json!({ "error": max }).to_string()), max);
    assert_eq!(
        code(400, r#"{"error":"access_denied.v2-x"}"#),
        "access_denied.v2-x"
    );
}

#[test]
fn server_errors_rate_limits_and_timeouts_are_unavailable() {
    for status in [500, 502, 503, 599, 429, 408] {
        assert_eq!(
            judged(status, ""),
            Exchange::Unavailable {
                status: Some(status)
            }
        );
    }
    let body = json!({"error":"temporarily_unavailable","refresh_token":"rt2"});
    assert_eq!(
        judged_json(503, body),
        Exchange::Unavailable { status: Some(503) }
    );
    let huge = "x".repeat(MAX_BODY_BYTES + 1);
    assert_eq!(
        judged(502, &huge),
        Exchange::Unavailable { status: Some(502) }
    );
}

#[test]
fn informational_redirect_and_unknown_statuses_are_invalid() {
    for status in [100, 101, 199, 301, 302, 304, 600, 999, u16::MAX, 0] {
        assert_eq!(judged(status, ""), invalid("status"), "{status}");
    }
    assert_eq!(
        judged_json(302, json!({"refresh_token":"rt2"})),
        Exchange::InvalidResponse {
            reason: "status",
            refresh_token: Some("rt2".into())
        }
    );
}

#[test]
fn bodies_over_64_kib_are_not_parsed() {
    let pad_to = |len: usize| {
        let mut body =
            json!({"access_token":"a","expires_in":60,"refresh_token":"rt2"}).to_string();
        body.push_str(&" ".repeat(len - body.len()));
        body
    };
    assert_eq!(
        judged(200, &pad_to(MAX_BODY_BYTES)).refresh_token(),
        Some("rt2")
    );
    assert_eq!(
        judged(200, &pad_to(MAX_BODY_BYTES + 1)),
        invalid("too_large")
    );
    assert_eq!(
        judged(400, &pad_to(MAX_BODY_BYTES + 1)),
        invalid("too_large")
    );
}

#[test]
fn debug_output_never_shows_tokens() {
    let out = judged_json(
        200,
        json!({"access_token":"SECRET_AT","refresh_token":"SECRET_RT","id_token":"SECRET_ID"}),
    );
    let shown = format!("{out:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("Some(***)"), "{shown}");
    let denied = format!(
        "{:?}",
        judged_json(400, json!({"error":"x","refresh_token":"SECRET"}))
    );
    assert!(!denied.contains("SECRET"), "{denied}");
}

#[test]
fn jwt_claims_decodes_only_three_segment_tokens_with_an_object_payload() {
    let token = jwt(&json!({"aud":API,"exp":5}));
    let claims = jwt_claims(&token);
    assert_eq!(claims.as_ref().and_then(|c| c.get("exp")), Some(&json!(5)));
    assert_eq!(jwt_audiences(&token), Some(vec![API.to_owned()]));

    let payload = URL_SAFE_NO_PAD.encode(br#"{"aud":"x"}"#);
    let array = URL_SAFE_NO_PAD.encode(b"[1]");
    assert_eq!(jwt_claims(&format!("h.{payload}")), None);
    assert_eq!(jwt_claims(&format!("h.{payload}.s.x")), None);
    assert_eq!(jwt_claims(&format!(".{payload}.s")), None);
    assert_eq!(jwt_claims(&format!("h!.{payload}.s")), None);
    assert_eq!(jwt_claims(&format!("h.{payload}.s+/")), None);
    assert_eq!(jwt_claims(&format!("h.{array}.s")), None);
    assert_eq!(jwt_claims("h.%%%.s"), None);
    assert_eq!(jwt_claims(""), None);
    // Padding is tolerated; an empty signature too (the shape is what matters for `aud`).
    let padded = URL_SAFE.encode(br#"{"aud":"xyz"}"#);
    assert!(padded.ends_with('='));
    assert_eq!(
        jwt_audiences(&format!("h.{padded}.s")),
        Some(vec!["xyz".into()])
    );
    assert_eq!(
        jwt_audiences(&format!("h.{payload}.")),
        Some(vec!["x".into()])
    );
    assert_eq!(jwt_audiences("opaque"), None);
    assert_eq!(jwt_audiences(&jwt(&json!({"sub":"u"}))), None);
}

fn any_json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        "[a-zA-Z0-9_.-]{1,8}\\.[a-zA-Z0-9_=-]{0,40}\\.[a-zA-Z0-9_-]{0,8}".prop_map(Value::from),
        (any::<i64>(), "[ -~]{0,8}").prop_map(|(n, s)| Value::from(jwt(&json!({"exp":n,"aud":s}))))
    ]
}

proptest! {
    #[test]
    fn judge_never_panics_on_arbitrary_bytes(
        status in any::<u16>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        now in any::<u64>(),
    ) {
        let _ = judge(status, &body, Some(API), &Scope::parse("a b"), now);
        let _ = judge(status, &body, None, &Scope::empty(), now);
    }

    #[test]
    fn judge_never_panics_on_token_shaped_objects(
        status in prop_oneof![Just(200u16), Just(400), Just(401), Just(403), any::<u16>()],
        fields in proptest::collection::btree_map(
            prop_oneof![
                Just("access_token"), Just("token_type"), Just("expires_in"), Just("scope"),
                Just("refresh_token"), Just("id_token"), Just("error"),
            ],
            any_json_value(),
            0..7,
        ),
        now in any::<u64>(),
    ) {
        let body = serde_json::to_vec(&fields).unwrap_or_default();
        let out = judge(status, &body, Some(API), &Scope::parse("a"), now);
        if let Some(rt) = out.refresh_token() {
            prop_assert!(!rt.trim().is_empty());
        }
        match out {
            Exchange::Success { grant, .. } => {
                prop_assert!(!grant.access_token.is_empty());
                prop_assert!(grant.access_token.bytes().all(|b| b.is_ascii_graphic()));
            }
            Exchange::Denied { code, .. } => prop_assert!(is_plain_code(&code)),
            _ => {}
        }
    }
}
