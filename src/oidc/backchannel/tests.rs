use super::*;
use serde_json::json;

fn claims(
    events: bool,
    sid: Option<&str>,
    sub: Option<&str>,
    nonce: bool,
    iat: u64,
) -> LogoutClaims {
    let mut ev = serde_json::Map::new();
    if events {
        ev.insert(LOGOUT_EVENT.into(), json!({}));
    }
    LogoutClaims {
        iat,
        sub: sub.map(Into::into),
        sid: sid.map(Into::into),
        events: ev,
        nonce: nonce.then(|| json!("n")),
    }
}

#[test]
fn a_proper_logout_token_passes() {
    assert!(check_claims(&claims(true, Some("s"), None, false, 1000), 1000).is_ok());
    assert!(check_claims(&claims(true, None, Some("u"), false, 990), 1000).is_ok());
}

#[test]
fn each_missing_piece_is_refused() {
    assert!(check_claims(&claims(false, Some("s"), None, false, 1000), 1000).is_err());
    assert!(check_claims(&claims(true, None, None, false, 1000), 1000).is_err());
    assert!(check_claims(&claims(true, Some("s"), None, true, 1000), 1000).is_err());
    assert!(check_claims(
        &claims(true, Some("s"), None, false, 1000 - MAX_AGE_SECS - 1),
        1000
    )
    .is_err());
    assert!(check_claims(&claims(true, Some("s"), None, false, 1000 + 61), 1000).is_err());
}
