use super::*;
use serde_json::json;

/// Claims as a plain map, for the functions that take any claim source.
struct Map(serde_json::Map<String, Value>);

impl ClaimSource for Map {
    fn claim(&self, name: &str) -> Claim<'_> {
        match self.0.get(name) {
            Some(Value::String(s)) if name == "sub" => Claim::Text(s),
            Some(v) => Claim::Json(v),
            None if name == "unknown" => Claim::Unknown,
            None => Claim::Absent,
        }
    }
}

fn value(v: Value) -> Option<String> {
    let claims = Map(match json!({ "c": v }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    });
    claim_value(&claims, "c").map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
}

#[test]
fn scalars_are_sent_as_text() {
    assert_eq!(
        value(json!("alice@example.com")).as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(value(json!(true)).as_deref(), Some("true"));
    assert_eq!(value(json!(false)).as_deref(), Some("false"));
    assert_eq!(value(json!(42)).as_deref(), Some("42"));
    assert_eq!(
        value(json!("Zoë Ström")).as_deref(),
        Some("Zoë Ström"),
        "UTF-8 as is"
    );
}

#[test]
fn arrays_are_joined_with_commas() {
    assert_eq!(
        value(json!(["admins", "ops"])).as_deref(),
        Some("admins,ops")
    );
    assert_eq!(value(json!(["solo"])).as_deref(), Some("solo"));
    assert_eq!(value(json!([1, true, "x"])).as_deref(), Some("1,true,x"));
}

#[test]
fn absent_empty_and_unusable_values_send_no_header() {
    assert_eq!(value(json!(null)), None);
    assert_eq!(value(json!({"a": 1})), None);
    assert_eq!(value(json!("")), None);
    assert_eq!(value(json!([])), None);
    assert_eq!(value(json!([{"a": 1}])), None);
    let claims = Map(serde_json::Map::new());
    assert!(claim_value(&claims, "missing").is_none());
    assert!(claim_value(&claims, "unknown").is_none());
}

#[test]
fn values_that_could_be_misread_send_no_header() {
    for bad in [
        json!("a\r\nX-Admin: 1"),
        json!("a\nb"),
        json!("a\0b"),
        json!("tab\there"),
        json!("del\u{7f}"),
        json!("c1\u{85}"),
        json!(["ok", "a,b"]),
        json!(["ok", "a\r\nb"]),
        json!("x".repeat(MAX_VALUE_LEN + 1)),
    ] {
        assert_eq!(value(bad.clone()), None, "{bad}");
    }
    assert!(value(json!("x".repeat(MAX_VALUE_LEN))).is_some());
}

#[test]
fn the_stripped_set_covers_configured_names_and_the_gateway_namespace() {
    let set = StrippedHeaders::new([
        HeaderName::from_static("x-user-email"),
        HeaderName::from_static("x-user-email"),
        HeaderName::from_static("x-user-groups"),
    ]);
    for name in [
        "x-user-email",
        "x-user-groups",
        "x-tokengate-assertion",
        "x-tokengate-anything",
    ] {
        assert!(set.strips(&HeaderName::from_static(name)), "{name}");
    }
    for name in ["x-user", "authorization", "x-tokengate", "cookie"] {
        assert!(!set.strips(&HeaderName::from_static(name)), "{name}");
    }
    let mut request = HeaderMap::new();
    request.append(
        "X-User-Email",
        HeaderValue::from_static("forged@example.com"),
    );
    request.append("x-user-email", HeaderValue::from_static("again"));
    request.append("X-Tokengate-Assertion", HeaderValue::from_static("forged"));
    request.append("accept", HeaderValue::from_static("*/*"));
    let present = set.present(&request);
    assert_eq!(present.len(), 2, "{present:?}");
}

#[test]
fn invisible_formatting_characters_drop_the_header() {
    for text in [
        "admin\u{200b}",
        "\u{202e}nimda",
        "a\u{feff}",
        "x\u{00ad}y",
        "a\u{2066}b",
    ] {
        assert_eq!(value(json!(text)), None, "{text:?}");
    }
    assert_eq!(value(json!(["ok", "admin\u{200d}"])), None);
}
