//! Configs that fail: each kind of problem, its path and message, and several at once.

use super::*;

#[test]
fn yaml_syntax_error_is_one_error_with_a_line() {
    let errs = errors("server:\n  listen: [1, 2\nprovider: {}\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("YAML error"), "{errs:?}");
    assert!(errs[0].contains("line "), "{errs:?}");
}

#[test]
fn unknown_keys_at_every_level() {
    let text = MINIMAL
        .replace("  listen:", "  listn: x\n  listen:")
        .replace("routes:", "extra: 1\nroutes:")
        + "    timeout: 5s\n";
    assert_eq!(
        errors(&text),
        vec![
            "server.listn: unknown key (expected one of: listen, public_url, admin_listen, \
             threads, grace_period, assertion_key, assertion_keys, tls, trusted_proxies)",
            "extra: unknown key (expected one of: server, provider, session, tokens, limits, \
             routes)",
            "routes[0].timeout: unknown key (expected one of: name, path_prefix, host, upstream, \
             strip_prefix, auth, audience, scope, grant, csrf, bearer, require, identity_headers, \
             identity_assertion, upstream_headers, upstream_ca, upstream_client_cert, upstream_sni, \
             upstream_h2)",
        ]
    );
}

#[test]
fn trusted_proxies_are_cidrs_without_host_bits() {
    let with = |list: &str| {
        MINIMAL.replace(
            "  listen:",
            &format!("  trusted_proxies: {list}\n  listen:"),
        )
    };
    one_error(
        &with("[\"10.1.2.3/8\"]"),
        "server.trusted_proxies[0]",
        "\"10.1.2.3/8\" has host bits set under its /8; did you mean 10.0.0.0/8?",
    );
    one_error(
        &with("[\"10.0.0.0/8\", proxy.internal]"),
        "server.trusted_proxies[1]",
        "\"proxy.internal\" is not a CIDR; expected an address/prefix such as 10.0.0.0/8 or \
         fd00::/8",
    );
    let config = ok(&with("[\"10.0.0.0/8\", \"192.0.2.1\", \"fd00::/8\"]"));
    let nets: Vec<String> = config
        .server
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32", "fd00::/8"]);
    assert!(
        ok(MINIMAL).server.trusted_proxies.is_empty(),
        "default: none"
    );
}

#[test]
fn unknown_key_in_login() {
    let text = MINIMAL.replace("session:\n", "  login:\n    scopes: openid\nsession:\n");
    one_error(
        &text,
        "provider.login.scopes",
        "unknown key (expected one of: scope, audience)",
    );
}

#[test]
fn required_keys() {
    assert_eq!(
        errors("server:\n  threads: 1\nsession:\n  store: cookie\nroutes:\n  - {}\n"),
        vec![
            "server.listen: required",
            "server.public_url: required",
            "session.keys: required",
            "routes[0].name: required",
            "routes[0].path_prefix: required",
            "routes[0].upstream: required",
            "provider: required",
        ]
    );
}

#[test]
fn empty_file_lists_every_required_section() {
    assert_eq!(
        errors(""),
        vec![
            "server: required",
            "provider: required",
            "session: required",
            "routes: required (at least one route)"
        ]
    );
}

#[test]
fn wrong_node_types() {
    assert_eq!(
        errors("server: 5\nprovider: []\nsession:\n  keys: abc\nroutes: {}\n"),
        vec![
            "server: expected a mapping, got an integer",
            "provider: expected a mapping, got a list",
            "session.keys: expected a list of keys, got a string",
            "routes: expected a list of routes, got a mapping",
        ]
    );
}

#[test]
fn numbers_where_strings_are_expected_are_refused() {
    let text = MINIMAL.replace(
        "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
        "  client_id: 12345",
    );
    one_error(
        &text,
        "provider.client_id",
        "expected a string, got an integer (put the value in quotes)",
    );
}

#[test]
fn leading_zero_numbers_stay_strings() {
    let c = ok(&MINIMAL.replace(
        "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
        "  client_id: 0123",
    ));
    assert_eq!(c.provider.client_id, "0123");
}

#[test]
fn bad_durations() {
    let text = format!("{MINIMAL}tokens:\n  expiry_leeway: 5 parsecs\n");
    one_error(
        &text,
        "tokens.expiry_leeway",
        "invalid duration \"5 parsecs\": ",
    );
    let text = MINIMAL.replace("  client_id:", "  timeout: 0s\n  client_id:");
    one_error(&text, "provider.timeout", "must be greater than zero");
}

#[test]
fn listen_must_be_an_ip_and_port() {
    let text = MINIMAL.replace("\"127.0.0.1:8080\"\n", "\"localhost:8080\"\n");
    one_error(&text, "server.listen", "hostnames are not allowed");
    let text = MINIMAL.replace("  listen:", "  admin_listen: \"9901\"\n  listen:");
    one_error(
        &text,
        "server.admin_listen",
        "invalid socket address \"9901\"",
    );
}

#[test]
fn public_url_must_be_an_origin() {
    let text = MINIMAL.replace("\"http://127.0.0.1:8080\"", "\"http://127.0.0.1:8080/app\"");
    one_error(&text, "server.public_url", "without a path");
}

#[test]
fn issuer_must_be_http_url() {
    let text = MINIMAL.replace("\"https://issuer.example.com/\"", "\"issuer.example.com\"");
    one_error(&text, "provider.issuer", "invalid URL");
}

#[test]
fn login_scope_must_include_openid() {
    let text = MINIMAL.replace("session:\n", "  login:\n    scope: profile\nsession:\n");
    one_error(&text, "provider.login.scope", "must include \"openid\"");
}

#[test]
fn bad_choices_list_the_options() {
    let text = MINIMAL.replace(
        "  client_id:",
        "  client_auth: private_key_jwt\n  client_id:",
    );
    one_error(
        &text,
        "provider.client_auth",
        "must be one of: client_secret_post, client_secret_basic (got \"private_key_jwt\")",
    );
    one_error(
        &with_route_line("auth: maybe"),
        "routes[0].auth",
        "must be one of: required, optional, none",
    );
    one_error(
        &with_route_line("csrf: sometimes"),
        "routes[0].csrf",
        "expected true or false",
    );
}

#[test]
fn session_key_errors_name_the_index_and_never_the_value() {
    let text = MINIMAL.replace(
        "[\"${TOKENGATE_SESSION_KEY}\"]",
        &format!("[\"{KEY_A}\", \"{KEY_SHORT}\", \"sup3r+secret/\"]"),
    );
    let errs = errors(&text);
    assert_eq!(
        errs[0],
        "session.keys[1]: must be 32 bytes of base64url (got 16 bytes)"
    );
    assert!(
        errs[1].starts_with("session.keys[2]: must be 32 bytes of base64url"),
        "{errs:?}"
    );
    assert_eq!(errs.len(), 2);
    assert!(errs
        .iter()
        .all(|e| !e.contains(KEY_SHORT) && !e.contains("sup3r")));
}

#[test]
fn empty_key_list_is_an_error() {
    one_error(
        &MINIMAL.replace("[\"${TOKENGATE_SESSION_KEY}\"]", "[]"),
        "session.keys",
        "at least one key",
    );
}

#[test]
fn padded_keys_are_accepted() {
    let c = ok(&MINIMAL.replace("[\"${TOKENGATE_SESSION_KEY}\"]", &format!("[\"{KEY_B}=\"]")));
    assert_eq!(c.session.keys, vec![[0xff; 32]]);
}

#[test]
fn redis_store_needs_a_redis_url() {
    let text = MINIMAL.replace("session:\n", "session:\n  store: redis\n");
    one_error(
        &text,
        "session.redis_url",
        "required when session.store is redis",
    );
    let text = MINIMAL.replace(
        "session:\n",
        "session:\n  redis_url: \"http://:pw@redis\"\n",
    );
    one_error(
        &text,
        "session.redis_url",
        "must start with redis:// or rediss://",
    );
    assert!(!errors(&text)[0].contains("pw@"));
}

#[test]
fn integer_ranges() {
    one_error(
        &format!("{MINIMAL}tokens:\n  max_cached: 65\n"),
        "tokens.max_cached",
        "from 0 to 64",
    );
    one_error(
        &format!("{MINIMAL}tokens:\n  max_cached: -1\n"),
        "tokens.max_cached",
        "from 0 to 64",
    );
    // 64 token sets fit no cookie: the redis store holds them.
    let redis = MINIMAL.replacen(
        "session:\n",
        "session:\n  store: redis\n  redis_url: \"redis://127.0.0.1:6379\"\n",
        1,
    );
    let c = ok(&format!("{redis}tokens:\n  max_cached: 64\n"));
    assert_eq!(c.tokens.max_cached, 64);
    let text = MINIMAL.replace("  listen:", "  threads: 0\n  listen:");
    one_error(
        &text,
        "server.threads",
        "must be an integer from 1 to 1024 (got \"0\")",
    );
    let text = MINIMAL.replace("  listen:", "  threads: 1.5\n  listen:");
    one_error(&text, "server.threads", "must be an integer");
}

#[test]
fn routes_must_not_be_empty() {
    let text = MINIMAL
        .split("routes:")
        .next()
        .unwrap_or_default()
        .to_owned()
        + "routes: []\n";
    one_error(&text, "routes", "at least one route is required");
}

#[test]
fn duplicate_route_names_point_at_the_first() {
    let text = format!(
        "{MINIMAL}  - name: orders\n    path_prefix: /other\n    upstream: http://10.0.0.1\n"
    );
    one_error(
        &text,
        "routes[1].name",
        "duplicate route name \"orders\" (already used by routes[0])",
    );
}

#[test]
fn duplicate_host_and_prefix() {
    let text = format!(
        "{MINIMAL}  - name: b\n    path_prefix: /api/orders/\n    upstream: http://10.0.0.1\n"
    );
    one_error(
        &text,
        "routes[1].path_prefix",
        "routes[0] already has the same host and path_prefix",
    );
    // The same prefix on another host is a different route.
    let text = format!(
        "{MINIMAL}  - name: b\n    host: b.example.com\n    path_prefix: /api/orders\n    upstream: http://10.0.0.1\n"
    );
    assert_eq!(ok(&text).routes[1].host.as_deref(), Some("b.example.com"));
}

#[test]
fn route_field_errors() {
    let route = |name: &str, prefix: &str, upstream: &str| {
        MINIMAL
            .replace("name: orders", &format!("name: \"{name}\""))
            .replace(
                "path_prefix: /api/orders",
                &format!("path_prefix: \"{prefix}\""),
            )
            .replace(
                "upstream: \"http://127.0.0.1:9101\"",
                &format!("upstream: \"{upstream}\""),
            )
    };
    one_error(
        &route("", "/a", "http://h"),
        "routes[0].name",
        "must not be empty",
    );
    one_error(
        &route("a b", "/a", "http://h"),
        "routes[0].name",
        "allowed: A-Z a-z 0-9 _ . -",
    );
    one_error(
        &route("a", "api", "http://h"),
        "routes[0].path_prefix",
        "must start with '/'",
    );
    one_error(
        &route("a", "/auth/x", "http://h"),
        "routes[0].path_prefix",
        "belongs to the gateway",
    );
    one_error(
        &route("a", "/a", "http://h/base"),
        "routes[0].upstream",
        "must not have a path",
    );
    one_error(
        &route("a", "/a", "ftp://h"),
        "routes[0].upstream",
        "http:// or https://",
    );
    one_error(
        &with_route_line("host: \"*.example.com\""),
        "routes[0].host",
        "wildcards",
    );
}

#[test]
fn several_problems_are_all_reported_in_document_order() {
    let text = r#"
server:
  listen: "localhost:8080"
  public_url: "ftp://x"
provider:
  issuer: "https://issuer.example.com/"
  client_id: "${NOPE}"
  client_secret: "s"
session:
  keys: ["AAECAwQFBgcICQoLDA0ODw"]
tokens:
  max_cached: 100
routes:
  - name: a
    path_prefix: /auth
    upstream: "http://127.0.0.1:1"
  - name: b
    path_prefix: /b
    upstream: "http://127.0.0.1:2/x"
"#;
    let paths: Vec<String> = match parse(text) {
        Err(ConfigErrors(errs)) => errs.into_iter().map(|e| e.path).collect(),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        paths,
        vec![
            "server.listen",
            "server.public_url",
            "provider.client_id",
            "session.keys[0]",
            "tokens.max_cached",
            "routes[0].path_prefix",
            "routes[1].upstream",
        ]
    );
}

#[test]
fn display_prints_one_error_per_line() {
    let e = parse("server: 1\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "server: expected a mapping, got an integer\nprovider: required\nsession: required\n\
         routes: required (at least one route)"
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    one_error(
        "- a\n- b\n",
        "",
        "expected a mapping with the keys server, provider",
    );
}

#[test]
fn load_file_reports_unreadable_files() {
    let errs = load_file(std::path::Path::new("/nonexistent/tokengate/routes.yaml"))
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert!(errs[0]
        .message
        .starts_with("cannot read /nonexistent/tokengate/routes.yaml"));
}
