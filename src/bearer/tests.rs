use super::*;
use http::HeaderValue;
use serde_json::json;

const JWT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

fn headers(values: &[&[u8]]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for v in values {
        h.append(
            http::header::AUTHORIZATION,
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

fn claims(v: Value) -> AccessClaims {
    AccessClaims::new(v.as_object().unwrap().clone(), 100).unwrap()
}

#[test]
fn presented_finds_a_bearer_jwt_and_ignores_other_schemes() {
    assert_eq!(presented(&HeaderMap::new()), Ok(None));
    let bearer = format!("Bearer {JWT}");
    assert_eq!(presented(&headers(&[bearer.as_bytes()])), Ok(Some(JWT)));
    let lower = format!("bearer  {JWT} ");
    assert_eq!(presented(&headers(&[lower.as_bytes()])), Ok(Some(JWT)));
    assert_eq!(presented(&headers(&[b"Basic dXNlcjpwdw=="])), Ok(None));
}

#[test]
fn presented_refuses_what_cannot_be_a_jwt() {
    let long = format!("Bearer {}.{}.x", "a".repeat(MAX_TOKEN_LEN), "b");
    let cases: Vec<Vec<u8>> = vec![
        b"Bearer".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer opaque-token".to_vec(),
        b"Bearer a.b".to_vec(),
        b"Bearer a.b.c.d".to_vec(),
        b"Bearer a..c".to_vec(),
        b"Bearer a.b+/=.c".to_vec(),
        b"Bearer a.\xff\xfe.c".to_vec(),
        long.into_bytes(),
    ];
    for case in cases {
        assert!(
            presented(&headers(&[&case])).is_err(),
            "{:?}",
            String::from_utf8_lossy(&case)
        );
    }
    let bearer = format!("Bearer {JWT}");
    let two = headers(&[bearer.as_bytes(), b"Basic x"]);
    assert_eq!(presented(&two), Err("several authorization headers"));
}

#[test]
fn claims_read_scope_or_scp_and_aud_as_string_or_array() {
    let c = claims(json!({"exp": 10, "aud": "a", "scope": "read  write"}));
    assert_eq!(c.aud, vec!["a"]);
    assert_eq!(c.scope, Scope::parse("write read"));
    let c = claims(json!({"exp": 10, "aud": ["a", "b"], "scp": ["read", "write"]}));
    assert_eq!(c.aud, vec!["a", "b"]);
    assert_eq!(c.scope, Scope::parse("read write"));
    let c = claims(json!({"exp": 10, "aud": "a", "scp": "read"}));
    assert_eq!(c.scope, Scope::parse("read"));
    let c = claims(json!({"exp": 10, "aud": "a"}));
    assert!(c.scope.is_empty());
}

#[test]
fn claims_without_exp_or_aud_or_with_odd_types_are_invalid() {
    let bad = [
        json!({"aud": "a"}),
        json!({"exp": "10", "aud": "a"}),
        json!({"exp": 10}),
        json!({"exp": 10, "aud": 5}),
        json!({"exp": 10, "aud": "a", "nbf": "x"}),
        json!({"exp": 10, "aud": "a", "scope": ["read"]}),
    ];
    for b in bad {
        assert!(
            AccessClaims::new(b.as_object().unwrap().clone(), 1).is_err(),
            "{b}"
        );
    }
}

#[test]
fn check_applies_the_window_with_skew_audience_and_scope() {
    let c = claims(json!({"exp": 1000, "nbf": 900, "aud": ["api", "x"], "scope": "read"}));
    let read = Scope::parse("read");
    assert_eq!(check(&c, "api", &read, 1000), Ok(()));
    assert_eq!(check(&c, "api", &read, 1059), Ok(()));
    assert_eq!(
        check(&c, "api", &read, 1060),
        Err(Refusal::Invalid("expired"))
    );
    assert_eq!(check(&c, "api", &read, 840), Ok(()));
    assert_eq!(
        check(&c, "api", &read, 839),
        Err(Refusal::Invalid("not yet valid"))
    );
    assert_eq!(
        check(&c, "other", &read, 950),
        Err(Refusal::Invalid("audience"))
    );
    let need = Scope::parse("read write admin");
    assert_eq!(
        check(&c, "x", &need, 950),
        Err(Refusal::Scope(Scope::parse("admin write")))
    );
}

#[test]
fn claims_are_a_claim_source_for_require_and_identity_headers() {
    let c = claims(json!({"exp": 1, "aud": "a", "sub": "svc", "groups": ["x"], "n": null}));
    assert_eq!(c.claim("sub"), Claim::Text("svc"));
    assert_eq!(c.claim("groups"), Claim::Json(&json!(["x"])));
    assert_eq!(c.claim("n"), Claim::Absent);
    assert_eq!(c.claim("email"), Claim::Absent);
}

#[test]
fn the_cache_keeps_a_token_until_its_exp_only() {
    let cache = BearerCache::new();
    let live = Arc::new(claims(json!({"exp": now() + 600, "aud": "a"})));
    cache.insert("t1", live);
    assert!(cache.get("t1").is_some());
    assert!(cache.get("t2").is_none());
    // Expired (beyond the skew) when stored: never served.
    let dead = Arc::new(claims(
        json!({"exp": now() - 2 * CLOCK_SKEW_SECS, "aud": "a"}),
    ));
    cache.insert("t3", dead);
    assert!(cache.get("t3").is_none());
}

#[test]
fn the_cache_is_bounded_by_weight() {
    let cache = BearerCache::with_capacity(10 * (100 + ENTRY_OVERHEAD as u64));
    for i in 0..200 {
        let c = Arc::new(claims(json!({"exp": now() + 600, "aud": "a"})));
        cache.insert(&format!("token-{i}"), c);
    }
    cache.cache.run_pending_tasks();
    assert!(
        cache.cache.entry_count() <= 10,
        "{}",
        cache.cache.entry_count()
    );
}
