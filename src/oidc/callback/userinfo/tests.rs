use super::*;

fn id_claims() -> IdClaims {
    serde_json::from_str(
        r#"{"sub":"u1","aud":"c","name":"Token Name","email":"t@example.com","groups":["a"],"acr":"gold"}"#,
    )
    .expect("claims")
}

#[test]
fn userinfo_claims_win_over_the_id_tokens() {
    let mut claims = id_claims();
    let info: Map<String, Value> = serde_json::from_str(
        r#"{"sub":"u1","email":"u@example.com","groups":["a","b"],"roles":["r"],"name":7}"#,
    )
    .expect("userinfo");
    apply(&mut claims, info);
    assert_eq!(claims.sub, "u1");
    assert_eq!(claims.email.as_deref(), Some("u@example.com"));
    // Not a string: the token's name stays.
    assert_eq!(claims.name.as_deref(), Some("Token Name"));
    assert_eq!(claims.other["groups"], serde_json::json!(["a", "b"]));
    assert_eq!(claims.other["roles"], serde_json::json!(["r"]));
    // What userinfo does not mention stays as the ID token said.
    assert_eq!(claims.other["acr"], "gold");
}
