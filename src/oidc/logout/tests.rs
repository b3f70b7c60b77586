use super::*;
use http::{HeaderMap, HeaderValue, Method};

const ORIGIN: &str = "https://app.example";
const SID: &str = "internal-session-id";

fn allowed(method: Method, query: Option<&str>, fields: &[(&'static str, &str)]) -> bool {
    let mut headers = HeaderMap::new();
    for (k, v) in fields {
        headers.insert(*k, HeaderValue::from_str(v).expect("a header value"));
    }
    let view = RequestView {
        method: &method,
        version: http::Version::HTTP_11,
        path: "/auth/logout",
        query,
        host: Some("app.example"),
        headers: &headers,
        client_ip: None,
        raw_head: None,
        framing: None,
        target_len: 12,
    };
    may_log_out(&view, ORIGIN, SID)
}

#[test]
fn the_logout_sid_is_stable_derived_and_not_the_internal_id() {
    let a = logout_sid(SID);
    assert_eq!(a, logout_sid(SID));
    assert_ne!(a, logout_sid("another-session"));
    assert!(!a.contains(SID));
    assert_eq!(a.len(), 22, "128 bits, base64url");
}

#[test]
fn a_get_from_another_site_needs_the_sid() {
    let sid = logout_sid(SID);
    let with_sid = format!("sid={sid}");
    for site in ["cross-site", "same-site", "Cross-Site"] {
        let f = [("sec-fetch-site", site)];
        assert!(!allowed(Method::GET, None, &f), "{site}");
        assert!(!allowed(Method::GET, Some("sid=wrong"), &f), "{site}");
        assert!(
            !allowed(Method::GET, Some(&format!("sid={SID}")), &f),
            "internal id"
        );
        assert!(allowed(Method::GET, Some(&with_sid), &f), "{site}");
    }
    for site in ["same-origin", "none"] {
        assert!(
            allowed(Method::GET, None, &[("sec-fetch-site", site)]),
            "{site}"
        );
    }
    assert!(allowed(Method::GET, None, &[]), "no fetch metadata");
}

#[test]
fn a_post_follows_the_csrf_rule() {
    assert!(allowed(Method::POST, None, &[("origin", ORIGIN)]));
    assert!(allowed(Method::POST, None, &[("x-csrf", "1")]));
    assert!(allowed(
        Method::POST,
        None,
        &[("sec-fetch-site", "same-origin")]
    ));
    assert!(!allowed(
        Method::POST,
        None,
        &[("origin", "https://evil.example")]
    ));
    assert!(!allowed(Method::POST, None, &[]));
    let sid = format!("sid={}", logout_sid(SID));
    assert!(
        !allowed(
            Method::POST,
            Some(&sid),
            &[("origin", "https://evil.example")]
        ),
        "the sid is for GET links"
    );
}
