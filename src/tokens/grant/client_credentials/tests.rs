use super::*;

fn grant(scope: &str, expires_at: u64) -> Grant {
    Grant {
        access_token: "cc-token".into(),
        scope: Scope::parse(scope),
        expires_at,
    }
}

fn state(token: Grant) -> State {
    State {
        token: Some(token),
        failure: None,
    }
}

#[test]
fn a_cached_token_serves_until_expiry_minus_leeway() {
    let s = state(grant("read", 1000));
    let read = Scope::parse("read");
    assert_eq!(
        usable(&s, &read, 939, 60, Decision::Hit),
        Some(Ok(("cc-token".to_owned(), Decision::Hit)))
    );
    assert_eq!(usable(&s, &read, 940, 60, Decision::Hit), None);
    assert_eq!(usable(&State::default(), &read, 0, 60, Decision::Hit), None);
    // A leeway longer than the token's life: unusable, not an overflow.
    assert_eq!(
        usable(&state(grant("read", 10)), &read, 0, 60, Decision::Hit),
        None
    );
}

#[test]
fn a_narrow_grant_answers_what_is_missing_while_it_lives() {
    let s = state(grant("read", 1000));
    assert_eq!(
        usable(&s, &Scope::parse("read write"), 0, 60, Decision::Hit),
        Some(Err(TokenError::InsufficientScope {
            missing: Scope::parse("write")
        }))
    );
}

#[test]
fn failures_map_without_a_session() {
    assert_eq!(
        judge(Exchange::InvalidGrant, None),
        Err(TokenError::Denied {
            code: "invalid_grant".into()
        })
    );
    assert_eq!(
        judge(
            Exchange::Denied {
                code: "invalid_client".into(),
                refresh_token: None
            },
            None
        ),
        Err(TokenError::Denied {
            code: "invalid_client".into()
        })
    );
    assert_eq!(
        judge(Exchange::Unavailable { status: Some(503) }, Some(1000)),
        Err(TokenError::Unavailable { retry_after: 300 })
    );
    assert_eq!(
        judge(Exchange::Unavailable { status: None }, None),
        Err(TokenError::Unavailable {
            retry_after: DEFAULT_RETRY_AFTER
        })
    );
    assert_eq!(
        judge(
            Exchange::InvalidResponse {
                reason: "unparseable",
                refresh_token: None
            },
            None
        ),
        Err(TokenError::InvalidResponse)
    );
    assert_eq!(
        judge(
            Exchange::AudienceMismatch {
                refresh_token: None
            },
            None
        ),
        Err(TokenError::AudienceMismatch)
    );
    assert_eq!(
        judge(
            Exchange::Success {
                grant: grant("read", 5),
                refresh_token: None,
                id_token: None
            },
            None
        ),
        Ok(grant("read", 5))
    );
}
