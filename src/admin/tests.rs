use super::*;

#[test]
fn ready_once_discovery_is_done() {
    let r = Readiness {
        discovery: true,
        store: None,
        store_required: false,
        tls_seconds_left: None,
    };
    assert_eq!(
        r.reply(),
        (200, "config: ok\nprovider_discovery: ok\n".to_owned())
    );
}

#[test]
fn not_ready_while_discovery_is_pending() {
    let r = Readiness {
        discovery: false,
        store: None,
        store_required: false,
        tls_seconds_left: None,
    };
    assert_eq!(
        r.reply(),
        (503, "config: ok\nprovider_discovery: pending\n".to_owned())
    );
}

#[test]
fn an_unreachable_store_is_reported_but_keeps_the_replica_ready() {
    let r = Readiness {
        discovery: true,
        store: Some(false),
        store_required: false,
        tls_seconds_left: None,
    };
    assert_eq!(
        r.reply(),
        (
            200,
            "config: ok\nprovider_discovery: ok\nsession_store: unreachable\n".to_owned()
        )
    );
}

#[test]
fn an_unreachable_store_is_not_ready_when_required() {
    let r = Readiness {
        discovery: true,
        store: Some(false),
        store_required: true,
        tls_seconds_left: None,
    };
    assert_eq!(
        r.reply(),
        (
            503,
            "config: ok\nprovider_discovery: ok\nsession_store: unreachable\n".to_owned()
        )
    );
    let r = Readiness {
        store: Some(true),
        ..r
    };
    assert_eq!(r.reply().0, 200);
    // The cookie store has nothing to require.
    let r = Readiness { store: None, ..r };
    assert_eq!(r.reply().0, 200);
}

#[test]
fn store_required_only_with_its_exact_query() {
    assert!(store_required(Some("store=required")));
    assert!(store_required(Some("x=1&store=required")));
    assert!(!store_required(None));
    assert!(!store_required(Some("")));
    assert!(!store_required(Some("store=optional")));
    assert!(!store_required(Some("store=required2")));
}

#[test]
fn endpoints_by_method_and_path() {
    assert_eq!(Endpoint::of(&Method::GET, "/healthz"), Endpoint::Health);
    assert_eq!(Endpoint::of(&Method::HEAD, "/readyz"), Endpoint::Ready);
    assert_eq!(Endpoint::of(&Method::GET, "/metrics"), Endpoint::Metrics);
    assert_eq!(
        Endpoint::of(&Method::POST, "/metrics"),
        Endpoint::MethodNotAllowed
    );
    assert_eq!(Endpoint::of(&Method::GET, "/metrics/"), Endpoint::NotFound);
    assert_eq!(Endpoint::of(&Method::GET, "/"), Endpoint::NotFound);
}

#[test]
fn the_listener_certificate_is_reported_but_never_makes_the_replica_unready() {
    let r = |left| Readiness {
        discovery: true,
        store: None,
        store_required: false,
        tls_seconds_left: Some(left),
    };
    assert_eq!(
        r(90 * 86_400 + 5).reply(),
        (
            200,
            "config: ok\nprovider_discovery: ok\ntls_certificate: ok, expires in 90 days\n"
                .to_owned()
        )
    );
    assert_eq!(
        r(-1).reply(),
        (
            200,
            "config: ok\nprovider_discovery: ok\ntls_certificate: expired\n".to_owned()
        )
    );
}
