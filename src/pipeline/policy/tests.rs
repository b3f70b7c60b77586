use super::*;

fn body(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).expect("a JSON body")
}

#[test]
fn a_denial_names_the_claim_only() {
    let reply = forbidden("groups");
    assert_eq!(reply.status, 403);
    assert_eq!(reply.code, Some(ErrorCode::Forbidden));
    assert_eq!(
        body(&reply),
        serde_json::json!({"error": "forbidden", "detail": "groups"})
    );
}

#[test]
fn a_step_up_is_the_rfc_9470_challenge() {
    let reply = step_up("urn:mfa gold");
    assert_eq!(reply.status, 401);
    assert_eq!(
        body(&reply),
        serde_json::json!({
            "error": "insufficient_user_authentication",
            "acr_values": "urn:mfa gold"
        })
    );
    let challenge = reply
        .headers
        .iter()
        .find(|(n, _)| *n == "www-authenticate")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        challenge,
        Some(r#"Bearer error="insufficient_user_authentication", acr_values="urn:mfa gold""#)
    );
}
