//! Configs that load: typed values, defaults, interpolation.

use super::*;

#[test]
fn the_example_routes_yaml_is_valid() {
    let c = ok(include_str!("../../../routes.yaml"));
    assert_eq!(c.provider.client_id, "gateway-client");
    assert_eq!(c.provider.client_secret.expose(), "s3cret # not: a comment");
    assert_eq!(
        c.session.keys,
        vec![std::array::from_fn::<u8, 32, _>(|i| i as u8)]
    );
    assert_eq!(c.routes.len(), 2);
    assert_eq!(
        c.routes[0].audience.as_deref(),
        Some("https://orders.example.com")
    );
}

#[test]
fn full_config_gives_typed_values() {
    let text = r#"
server:
  listen: "0.0.0.0:8443"
  public_url: "https://app.example.com"
  admin_listen: "127.0.0.1:9901"
  threads: 4
  grace_period: 10s
provider:
  issuer: "https://example.auth0.com/"
  client_id: abc
  client_secret: "${TOKENGATE_CLIENT_SECRET}"
  client_auth: client_secret_basic
  resource_param: resource
  login:
    scope: "openid email"
    audience: "https://api.example.com"
  timeout: 2500ms
session:
  cookie_name: tg
  keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "__________________________________________8="]
  store: redis
  redis_url: "rediss://:pw@redis:6380/0"
  absolute_lifetime: 12h
  idle_timeout: 30m
tokens:
  expiry_leeway: 5s
  max_cached: 0
routes:
  - name: orders
    path_prefix: /api/orders/
    host: API.Example.com:8443
    upstream: "https://orders.internal:8443/"
    strip_prefix: true
    auth: optional
    audience: "https://orders.example.com"
    scope: "write:orders read:orders"
    csrf: true
  - name: hooks
    path_prefix: /hooks
    upstream: "http://127.0.0.1:9102"
    auth: none
    csrf: false
"#;
    let c = ok(text);
    assert_eq!(c.server.listen, "0.0.0.0:8443".parse().unwrap());
    assert_eq!(c.server.public_url.as_str(), "https://app.example.com/");
    assert_eq!(
        c.server.admin_listen,
        Some("127.0.0.1:9901".parse().unwrap())
    );
    assert_eq!(c.server.threads, Some(4));
    assert_eq!(c.server.grace_period, Duration::from_secs(10));
    assert_eq!(c.provider.issuer.as_str(), "https://example.auth0.com/");
    assert_eq!(c.provider.client_id, "abc");
    assert_eq!(c.provider.client_secret.expose(), "s3cret # not: a comment");
    assert_eq!(c.provider.client_auth, ClientAuth::ClientSecretBasic);
    assert_eq!(c.provider.resource_param, ResourceParam::Resource);
    assert_eq!(c.provider.login.scope, Scope::parse("email openid"));
    assert_eq!(
        c.provider.login.audience.as_deref(),
        Some("https://api.example.com")
    );
    assert_eq!(c.provider.timeout, Duration::from_millis(2500));
    assert_eq!(c.session.cookie_name, "tg");
    assert_eq!(
        c.session.keys,
        vec![std::array::from_fn(|i| i as u8), [0xff; 32]]
    );
    assert_eq!(c.session.store, StoreKind::Redis);
    assert_eq!(
        c.session.redis_url.as_ref().map(|s| s.expose()),
        Some("rediss://:pw@redis:6380/0")
    );
    assert_eq!(c.session.absolute_lifetime, Duration::from_secs(12 * 3600));
    assert_eq!(c.session.idle_timeout, Some(Duration::from_secs(1800)));
    assert_eq!(c.tokens.expiry_leeway, Duration::from_secs(5));
    assert_eq!(c.tokens.max_cached, 0);
    let r = &c.routes[0];
    assert_eq!(r.name, "orders");
    assert_eq!(r.path_prefix, "/api/orders");
    assert_eq!(r.host.as_deref(), Some("api.example.com"));
    assert_eq!(
        r.upstream,
        Upstream {
            tls: true,
            host: "orders.internal".into(),
            port: 8443
        }
    );
    assert!(r.strip_prefix);
    assert_eq!(r.auth, AuthMode::Optional);
    assert_eq!(r.audience.as_deref(), Some("https://orders.example.com"));
    assert_eq!(r.scope, Scope::parse("read:orders write:orders"));
    assert!(r.csrf);
    let hooks = &c.routes[1];
    assert_eq!(hooks.auth, AuthMode::None);
    assert!(!hooks.csrf);
}

#[test]
fn defaults_are_applied() {
    let c = ok(MINIMAL);
    assert_eq!(c.server.admin_listen, None);
    assert_eq!(c.server.threads, None);
    assert_eq!(c.server.grace_period, Duration::from_secs(30));
    assert_eq!(c.provider.client_auth, ClientAuth::ClientSecretPost);
    assert_eq!(c.provider.resource_param, ResourceParam::Audience);
    assert_eq!(
        c.provider.login.scope,
        Scope::parse("openid profile email offline_access")
    );
    assert_eq!(c.provider.login.audience, None);
    assert_eq!(c.provider.timeout, Duration::from_secs(5));
    assert_eq!(c.session.cookie_name, "tokengate");
    assert_eq!(c.session.store, StoreKind::Cookie);
    assert_eq!(c.session.redis_url, None);
    assert_eq!(c.session.absolute_lifetime, Duration::from_secs(7 * 86400));
    assert_eq!(c.session.idle_timeout, None);
    assert_eq!(c.tokens.expiry_leeway, Duration::from_secs(60));
    assert_eq!(c.tokens.max_cached, 16);
    let r = &c.routes[0];
    assert_eq!(r.host, None);
    assert!(!r.strip_prefix);
    assert_eq!(r.auth, AuthMode::Required);
    assert_eq!(r.audience, None);
    assert!(r.scope.is_empty());
    assert!(r.csrf);
}

#[test]
fn https_public_url_defaults_to_host_prefixed_cookie() {
    let c = ok(&MINIMAL.replace("\"http://127.0.0.1:8080\"", "\"https://app.example.com\""));
    assert_eq!(c.session.cookie_name, "__Host-tokengate");
}

#[test]
fn host_prefixed_cookie_needs_https() {
    let text = MINIMAL.replace("session:\n", "session:\n  cookie_name: __Host-tg\n");
    one_error(
        &text,
        "session.cookie_name",
        "needs an https server.public_url",
    );
}

#[test]
fn cookie_name_with_a_dot_is_refused() {
    let text = MINIMAL.replace("session:\n", "session:\n  cookie_name: tg.s\n");
    one_error(&text, "session.cookie_name", "must not contain '.'");
}

#[test]
fn empty_sections_may_be_null() {
    let c = ok(&format!("{MINIMAL}tokens:\n"));
    assert_eq!(c.tokens.max_cached, 16);
}

#[test]
fn interpolation_default_and_number_from_string() {
    let text = MINIMAL.replace(
        "  public_url:",
        "  threads: \"${THREADS:-3}\"\n  grace_period: \"${GRACE:-1m}\"\n  public_url:",
    );
    let c = ok(&text);
    assert_eq!(c.server.threads, Some(3));
    assert_eq!(c.server.grace_period, Duration::from_secs(60));
}

#[test]
fn interpolation_of_booleans() {
    let c = ok(&(with_route_line("auth: none") + "    csrf: \"${CSRF:-false}\"\n"));
    assert!(!c.routes[0].csrf);
}

#[test]
fn missing_variable_is_named_at_its_field() {
    let text = MINIMAL.replace(
        SECRET_LINE,
        "  client_secret: \"${TOKENGATE_MISSING_SECRET}\"",
    );
    assert_eq!(
        errors(&text),
        vec![
            "provider.client_secret: environment variable TOKENGATE_MISSING_SECRET is not set \
             (and no default given)"
        ]
    );
}

#[test]
fn escaped_dollar_brace_is_literal() {
    let c = ok(&MINIMAL.replace(
        "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
        "  client_id: \"a$${b}\"",
    ));
    assert_eq!(c.provider.client_id, "a${b}");
}

#[test]
fn secret_with_hash_survives() {
    let c = ok(MINIMAL);
    assert_eq!(c.provider.client_secret.expose(), "s3cret # not: a comment");
}

#[test]
fn a_route_built_without_a_file_has_the_table_defaults() {
    let built = RouteConfig::new("orders", "/api/orders/", "http://127.0.0.1:9101").expect("valid");
    let read = &ok(MINIMAL).routes[0];
    assert_eq!(format!("{built:?}"), format!("{read:?}"));
    assert_eq!(built.path_prefix, "/api/orders");
    let errs = RouteConfig::new("a", "/a/*", "http://h")
        .expect_err("a star")
        .0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "route.path_prefix");
}
