use super::*;

fn body(r: &Reply) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

#[test]
fn an_error_carries_its_code_as_data_and_in_the_body() {
    let r = Reply::error(404, ErrorCode::NoRoute);
    assert_eq!(r.code, Some(ErrorCode::NoRoute));
    assert_eq!(body(&r), json!({"error": "no_route"}));
    let r = Reply::error_detail(403, ErrorCode::TokenUnavailable, "invalid_scope");
    assert_eq!(
        body(&r),
        json!({"error": "token_unavailable", "detail": "invalid_scope"})
    );
    assert_eq!(r.code.map(ErrorCode::as_str), Some("token_unavailable"));
}

#[test]
fn answers_that_are_not_errors_carry_no_code() {
    assert_eq!(Reply::json(401, json!({"authenticated": false})).code, None);
    assert_eq!(Reply::redirect("/").code, None);
    assert_eq!(Reply::empty(200).code, None);
}

#[test]
fn an_answer_with_a_cookie_is_private_no_store() {
    let r = Reply::redirect("/").with_cookies(["tg=v; Path=/".to_owned()]);
    let cc: Vec<_> = r
        .headers
        .iter()
        .filter(|(n, _)| *n == "cache-control")
        .collect();
    assert_eq!(cc, vec![&("cache-control", "private, no-store".to_owned())]);
    let r = Reply::text(200, "x").with_cookies(Vec::new());
    assert!(r.headers.iter().all(|(n, _)| *n != "cache-control"));
}
