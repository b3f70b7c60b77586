use super::*;

fn body(r: &Reply) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn reply(e: TokenError) -> Reply {
    e.reply()
}

#[test]
fn each_row_of_the_table() {
    let r = reply(TokenError::SessionExpired);
    assert_eq!(
        (r.status, body(&r)),
        (401, json!({"error": "session_expired"}))
    );

    let r = reply(TokenError::Unavailable { retry_after: 7 });
    assert_eq!(
        (r.status, body(&r)),
        (503, json!({"error": "token_endpoint_unavailable"}))
    );
    assert_eq!(header(&r, "retry-after"), Some("7"));

    let r = reply(TokenError::Denied {
        code: "invalid_scope".into(),
    });
    assert_eq!(
        (r.status, body(&r)),
        (
            403,
            json!({"error": "token_unavailable", "detail": "invalid_scope"})
        )
    );

    let r = reply(TokenError::InvalidResponse);
    assert_eq!(
        (r.status, body(&r)),
        (502, json!({"error": "token_endpoint_invalid_response"}))
    );

    let r = reply(TokenError::AudienceMismatch);
    assert_eq!(
        (r.status, body(&r)),
        (
            403,
            json!({"error": "token_unavailable", "detail": "audience_mismatch"})
        )
    );

    let r = reply(TokenError::InsufficientScope {
        missing: Scope::parse("b a"),
    });
    assert_eq!(
        (r.status, body(&r)),
        (
            403,
            json!({"error": "insufficient_scope", "missing": "a b"})
        )
    );
}

#[test]
fn the_label_is_the_code_except_for_an_audience_mismatch() {
    assert_eq!(TokenError::SessionExpired.code(), "session_expired");
    assert_eq!(TokenError::AudienceMismatch.code(), "audience_mismatch");
    let denied = TokenError::Denied {
        code: "invalid_scope".into(),
    };
    assert_eq!(denied.code(), "token_unavailable");
    assert_eq!(
        TokenError::StoreUnavailable.code(),
        "session_store_unavailable"
    );
    assert_eq!(TokenError::Busy.code(), "session_busy");
}
