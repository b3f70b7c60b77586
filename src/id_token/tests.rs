use super::*;

fn claims(nonce: Option<&str>, azp: Option<&str>, aud: Audience) -> IdClaims {
    IdClaims {
        sub: "u1".into(),
        name: None,
        email: None,
        sid: None,
        nonce: nonce.map(Into::into),
        azp: azp.map(Into::into),
        aud,
        other: Default::default(),
    }
}

/// Claims other than the ones named are kept for the session and the step-up check.
#[test]
fn other_claims_are_kept() {
    let c: IdClaims = serde_json::from_str(
        r#"{"sub":"u","aud":"c","groups":["a","b"],"acr":"urn:mfa","auth_time":1700000000}"#,
    )
    .expect("claims");
    assert_eq!(c.other["groups"], serde_json::json!(["a", "b"]));
    assert_eq!(c.other["acr"], "urn:mfa");
    assert!(!c.other.contains_key("sub") && !c.other.contains_key("aud"));
}

#[test]
fn nonce_must_match() {
    assert!(check_nonce_and_azp(
        claims(Some("n1"), None, Audience::One("c".into())),
        "c",
        "n1"
    )
    .is_ok());
    assert_eq!(
        check_nonce_and_azp(
            claims(Some("n2"), None, Audience::One("c".into())),
            "c",
            "n1"
        )
        .unwrap_err(),
        IdTokenError::Nonce
    );
    assert_eq!(
        check_nonce_and_azp(claims(None, None, Audience::One("c".into())), "c", "n1").unwrap_err(),
        IdTokenError::Nonce
    );
}

#[test]
fn azp_must_name_the_client() {
    assert_eq!(
        check_nonce_and_azp(
            claims(Some("n"), Some("other"), Audience::One("c".into())),
            "c",
            "n"
        )
        .unwrap_err(),
        IdTokenError::Azp
    );
    let many = Audience::Many(vec!["c".into(), "api".into()]);
    assert_eq!(
        check_nonce_and_azp(claims(Some("n"), None, many.clone()), "c", "n").unwrap_err(),
        IdTokenError::Azp
    );
    assert!(check_nonce_and_azp(claims(Some("n"), Some("c"), many), "c", "n").is_ok());
}

#[test]
fn hmac_and_none_are_refused() {
    assert!(!allowed(Algorithm::HS256));
    assert!(allowed(Algorithm::RS256));
    assert!(allowed(Algorithm::ES256));
    // `alg: none` does not even parse as a jsonwebtoken Algorithm.
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    assert!(jsonwebtoken::decode_header(none).is_err());
}
