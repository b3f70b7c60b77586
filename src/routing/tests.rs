use super::*;
use crate::path::is_gateway_path;
use crate::path::normalize_path;

fn route(name: &str, prefix: &str, host: Option<&str>) -> RouteConfig {
    RouteConfig {
        host: host.map(str::to_owned),
        ..RouteConfig::new(name, prefix, "http://127.0.0.1:9101").unwrap()
    }
}

fn router() -> Router {
    Router::new(vec![
        route("root", "/", None),
        route("orders", "/api/orders", None),
        route("admin", "/api/admin", None),
        route("api", "/api", None),
        route("orders-eu", "/api/orders", Some("EU.Example.com")),
        route("deep", "/api/orders/archive/2024", None),
        route("v6", "/api/orders", Some("[::1]")),
        route("only-b", "/b-only", Some("b.example.com")),
        route("orders-dup", "/api/orders", None),
    ])
}

fn name<'a>(r: &'a Router, host: Option<&str>, path: &str) -> Option<&'a str> {
    r.route(host, path).map(|route| route.config.name.as_str())
}

#[test]
fn longest_segment_aware_prefix_wins() {
    let r = router();
    let cases: &[(&str, &str)] = &[
        ("/", "root"),
        ("/x", "root"),
        ("/api", "api"),
        ("/api/", "api"),
        ("/apix", "root"),
        ("/api/orders", "orders"),
        ("/api/orders/", "orders"),
        ("/api/orders/x", "orders"),
        ("/api/orders/x/y/", "orders"),
        ("/api/ordersx", "api"),
        ("/api/orders/archive", "orders"),
        ("/api/orders/archive/2024", "deep"),
        ("/api/orders/archive/2024/01", "deep"),
        ("/api/orders/archive/20245", "orders"),
        ("/api/admin/users", "admin"),
        // Empty segments are segments: `/api//orders` is not under `/api/orders`.
        ("/api//orders", "api"),
        ("//api/orders", "root"),
    ];
    for (path, want) in cases {
        assert_eq!(name(&r, None, path), Some(*want), "path {path:?}");
    }
}

#[test]
fn dot_segments_cannot_reach_another_route_through_orders() {
    let r = router();
    let path = normalize_path("/api/orders/../admin").unwrap_or_default();
    assert_eq!(path, "/api/admin");
    assert_eq!(name(&r, None, &path), Some("admin"));
    let encoded = normalize_path("/api/orders/%2e%2e/admin").unwrap_or_default();
    assert_eq!(name(&r, None, &encoded), Some("admin"));
}

#[test]
fn host_routes_beat_host_less_ones_on_equal_prefix_only() {
    let r = router();
    let cases: &[(Option<&str>, &str, Option<&str>)] = &[
        (Some("eu.example.com"), "/api/orders/1", Some("orders-eu")),
        (Some("EU.EXAMPLE.COM"), "/api/orders", Some("orders-eu")),
        (
            Some("eu.example.com:8443"),
            "/api/orders",
            Some("orders-eu"),
        ),
        (Some("eu.example.com."), "/api/orders", Some("orders-eu")),
        (Some("us.example.com"), "/api/orders", Some("orders")),
        (None, "/api/orders", Some("orders")),
        (Some(""), "/api/orders", Some("orders")),
        // A longer host-less prefix still beats a shorter host prefix.
        (
            Some("eu.example.com"),
            "/api/orders/archive/2024",
            Some("deep"),
        ),
        (Some("eu.example.com"), "/api/admin", Some("admin")),
        (Some("[::1]:8080"), "/api/orders", Some("v6")),
        (Some("[::1]"), "/api/orders", Some("v6")),
        (Some("::1"), "/api/orders", Some("v6")),
        (Some("[::2]:8080"), "/api/orders", Some("orders")),
        // A host route never serves another host: fall back to a shorter prefix.
        (Some("b.example.com"), "/b-only/x", Some("only-b")),
        (Some("a.example.com"), "/b-only/x", Some("root")),
        (None, "/b-only", Some("root")),
    ];
    for (host, path, want) in cases {
        assert_eq!(name(&r, *host, path), *want, "host {host:?} path {path:?}");
    }
}

#[test]
fn no_route_without_a_root_prefix() {
    let r = Router::new(vec![
        route("orders", "/api/orders", None),
        route("b", "/b", Some("b.example.com")),
    ]);
    assert_eq!(name(&r, None, "/"), None);
    assert_eq!(name(&r, None, "/api"), None);
    assert_eq!(name(&r, Some("a.example.com"), "/b/x"), None);
    assert_eq!(name(&r, None, "/api/orders/1"), Some("orders"));
    assert!(Router::new(Vec::new()).route(None, "/").is_none());
}

#[test]
fn first_of_duplicate_routes_wins_and_index_is_config_position() {
    let r = router();
    let hit = r.route(None, "/api/orders");
    assert_eq!(
        hit.map(|h| (h.config.name.as_str(), h.index)),
        Some(("orders", 1))
    );
    assert_eq!(r.routes().len(), 9);
    assert_eq!(r.routes().get(8).map(|h| h.index), Some(8));
}

#[test]
fn trailing_slash_in_a_configured_prefix_is_ignored() {
    let r = Router::new(vec![route("orders", "/api/orders/", None)]);
    assert_eq!(name(&r, None, "/api/orders"), Some("orders"));
    assert_eq!(name(&r, None, "/api/orders/1"), Some("orders"));
    assert_eq!(name(&r, None, "/api/ordersx"), None);
}

#[test]
fn canonical_host_table() {
    let cases: &[(&str, &str)] = &[
        ("example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com.", "example.com"),
        ("example.com.:80", "example.com"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::1", "::1"),
        ("", ""),
    ];
    for (raw, want) in cases {
        assert_eq!(canonical_host(raw), *want, "input {raw:?}");
    }
}

#[test]
fn upstream_path_table() {
    let mut strip = route("orders", "/api/orders", None);
    strip.strip_prefix = true;
    let mut strip_root = route("root", "/", None);
    strip_root.strip_prefix = true;
    let keep = route("orders", "/api/orders", None);
    let cases: &[(&RouteConfig, &str, &str)] = &[
        (&strip, "/api/orders/x", "/x"),
        (&strip, "/api/orders/x/y/", "/x/y/"),
        (&strip, "/api/orders", "/"),
        (&strip, "/api/orders/", "/"),
        (&strip, "/api/orders//x", "//x"),
        (&strip, "/api/ordersx", "/api/ordersx"),
        (&strip, "/other", "/other"),
        (&strip_root, "/a/b", "/a/b"),
        (&strip_root, "/", "/"),
        (&keep, "/api/orders/x", "/api/orders/x"),
        (&keep, "/api/orders", "/api/orders"),
    ];
    for (config, path, want) in cases {
        assert_eq!(upstream_path(config, path), *want, "path {path:?}");
    }
}

#[test]
fn gateway_paths_are_segment_aware() {
    let cases: &[(&str, bool)] = &[
        ("/auth", true),
        ("/auth/", true),
        ("/auth/login", true),
        ("/auth/callback/x", true),
        ("/authx", false),
        ("/author/1", false),
        ("/api/auth", false),
        ("/", false),
        ("", false),
        ("/Auth/login", false),
        ("/.well-known/tokengate/jwks.json", true),
        ("/.well-known/tokengate", true),
        ("/.well-known/tokengatex", false),
        ("/.well-known/openid-configuration", false),
    ];
    for (path, want) in cases {
        assert_eq!(is_gateway_path(path), *want, "path {path:?}");
    }
}
