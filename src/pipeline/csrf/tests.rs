use super::*;
use http::Method;

const ORIGIN: &str = "https://app.example.com";

fn facts<'a>(method: &'a Method) -> CsrfFacts<'a> {
    CsrfFacts {
        method,
        origin: None,
        sec_fetch_site: None,
        x_csrf: None,
        websocket: false,
    }
}

#[test]
fn a_websocket_upgrade_needs_the_public_origin() {
    let get = Method::GET;
    let upgrade = |origin| CsrfFacts {
        origin,
        websocket: true,
        ..facts(&get)
    };
    assert!(allowed(upgrade(Some(ORIGIN)), ORIGIN));
    assert!(!allowed(upgrade(Some("https://sub.example.com")), ORIGIN));
    assert!(!allowed(upgrade(None), ORIGIN));
    let with_header = CsrfFacts {
        x_csrf: Some("1"),
        sec_fetch_site: Some("same-origin"),
        ..upgrade(None)
    };
    assert!(
        !allowed(with_header, ORIGIN),
        "only Origin counts on an upgrade"
    );
}

#[test]
fn safe_methods_pass_without_proof() {
    for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
        assert!(allowed(facts(&m), ORIGIN), "{m}");
    }
}

#[test]
fn unsafe_methods_need_proof() {
    for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        assert!(!allowed(facts(&m), ORIGIN), "{m}");
    }
}

#[test]
fn same_origin_passes_and_foreign_origin_does_not() {
    let m = Method::POST;
    let same = CsrfFacts {
        origin: Some(ORIGIN),
        ..facts(&m)
    };
    assert!(allowed(same, ORIGIN));
    let foreign = CsrfFacts {
        origin: Some("https://evil.example"),
        ..facts(&m)
    };
    assert!(!allowed(foreign, ORIGIN));
    let null = CsrfFacts {
        origin: Some("null"),
        ..facts(&m)
    };
    assert!(!allowed(null, ORIGIN));
    let subdomain = CsrfFacts {
        origin: Some("https://x.app.example.com"),
        ..facts(&m)
    };
    assert!(!allowed(subdomain, ORIGIN));
}

#[test]
fn a_foreign_origin_is_not_rescued_by_sec_fetch_site() {
    let m = Method::POST;
    let f = CsrfFacts {
        origin: Some("https://evil.example"),
        sec_fetch_site: Some("same-origin"),
        ..facts(&m)
    };
    assert!(!allowed(f, ORIGIN));
}

#[test]
fn sec_fetch_site_counts_only_without_origin() {
    let m = Method::DELETE;
    let same = CsrfFacts {
        sec_fetch_site: Some("same-origin"),
        ..facts(&m)
    };
    assert!(allowed(same, ORIGIN));
    let site = CsrfFacts {
        sec_fetch_site: Some("same-site"),
        ..facts(&m)
    };
    assert!(!allowed(site, ORIGIN));
    let cross = CsrfFacts {
        sec_fetch_site: Some("cross-site"),
        ..facts(&m)
    };
    assert!(!allowed(cross, ORIGIN));
}

#[test]
fn x_csrf_header_passes() {
    let m = Method::POST;
    assert!(allowed(
        CsrfFacts {
            x_csrf: Some("1"),
            ..facts(&m)
        },
        ORIGIN
    ));
    assert!(!allowed(
        CsrfFacts {
            x_csrf: Some("0"),
            ..facts(&m)
        },
        ORIGIN
    ));
}
