//! What `check` refuses or warns about because it would load but break at run time
//! (docs/reference.md#what-check-refuses-and-warns-about): one test per rule, plus the configs
//! shipped in the repository, which must pass without a warning.

use super::*;
use crate::config::BearerMode;

fn with_login_scope(scope: &str) -> String {
    MINIMAL.replace(
        "session:\n",
        &format!("  login:\n    scope: \"{scope}\"\nsession:\n"),
    )
}

#[test]
fn a_login_scope_without_offline_access_is_a_warning() {
    assert_eq!(
        warnings(&with_login_scope("openid profile")),
        vec![
            "warning: provider.login.scope: has no offline_access, so the provider may issue no \
             refresh token: then a route of another audience answers 403 token_unavailable \
             (no_refresh_token), and one the login token does not serve (another scope, or once \
             it expired) ends the session with 401 session_expired; add offline_access"
        ]
    );
    assert!(warnings(&with_login_scope("openid offline_access")).is_empty());
    assert!(
        warnings(MINIMAL).is_empty(),
        "the default login scope has it"
    );
}

#[test]
fn an_empty_or_missing_client_secret_is_an_error() {
    for value in ["\"\"", "\"${EMPTY}\"", "\"${UNSET_SECRET:-}\""] {
        let text = MINIMAL.replace(SECRET_LINE, &format!("  client_secret: {value}"));
        one_error(
            &text,
            "provider.client_secret",
            "must not be empty: the gateway authenticates to the token endpoint with it",
        );
    }
    one_error(
        &MINIMAL.replace(&format!("{SECRET_LINE}\n"), ""),
        "provider.client_secret",
        "required",
    );
}

#[test]
fn a_dollar_name_without_braces_is_a_warning_naming_the_field() {
    let text = MINIMAL
        .replace(SECRET_LINE, "  client_secret: \"pa$sword\"")
        .replace(
            "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
            "  client_id: \"$CLIENT_ID\"",
        );
    let found = warnings(&text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("warning: provider.client_id: \"$\" followed by a name is kept as is")
    );
    assert!(
        found[0].contains("write ${NAME} for the variable NAME"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("warning: provider.client_secret: "),
        "{found:?}"
    );
    assert!(
        found.iter().all(|w| !w.contains("sword")),
        "a value was quoted: {found:?}"
    );
    // Braces, the escape, and `$` inside a value that comes from the environment are fine.
    let text = MINIMAL.replace(
        "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
        "  client_id: \"$${literal}-${TOKENGATE_CLIENT_ID:-$x}\"",
    );
    assert!(warnings(&text).is_empty());
    let env = |name: &str| {
        (name == "DOLLAR")
            .then(|| "$HOME/x".to_owned())
            .or_else(|| env(name))
    };
    let text = MINIMAL.replace(SECRET_LINE, "  client_secret: \"${DOLLAR}\"");
    let checked = check_str(&text, &env).expect("valid");
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn a_star_in_path_prefix_is_an_error_with_the_fix() {
    one_error(
        &MINIMAL.replace("path_prefix: /api/orders", "path_prefix: /api/orders/*"),
        "routes[0].path_prefix",
        "\"/api/orders/*\" must not contain '*', which would be matched literally: a prefix \
         already matches every path below it, segment by segment; write \"/api/orders\"",
    );
    one_error(
        &MINIMAL.replace("path_prefix: /api/orders", "path_prefix: \"/*\""),
        "routes[0].path_prefix",
        "write \"/\"",
    );
    one_error(
        &MINIMAL.replace("path_prefix: /api/orders", "path_prefix: /api/*/x"),
        "routes[0].path_prefix",
        "there are no wildcards",
    );
}

#[test]
fn a_comma_separated_scope_is_an_error_with_the_fix() {
    one_error(
        &with_route_line("scope: \"read:a,write:a\""),
        "routes[0].scope",
        "scopes are separated by spaces, not commas: write \"read:a write:a\" \
         (got \"read:a,write:a\")",
    );
    one_error(
        &with_login_scope("openid, offline_access"),
        "provider.login.scope",
        "write \"openid offline_access\"",
    );
}

#[test]
fn admin_listen_must_differ_from_listen() {
    for admin in ["127.0.0.1:8080", "0.0.0.0:8080"] {
        let text = MINIMAL.replace(
            "  listen:",
            &format!("  admin_listen: \"{admin}\"\n  listen:"),
        );
        one_error(
            &text,
            "server.admin_listen",
            "must differ from server.listen (127.0.0.1:8080)",
        );
    }
    let text = MINIMAL.replace("  listen:", "  admin_listen: \"127.0.0.1:9901\"\n  listen:");
    assert_eq!(ok(&text).server.admin_listen.map(|a| a.port()), Some(9901));
}

#[test]
fn a_plain_http_issuer_is_an_error_unless_it_is_loopback() {
    let issuer =
        |url: &str| MINIMAL.replace("\"https://issuer.example.com/\"", &format!("\"{url}\""));
    one_error(
        &issuer("http://issuer.example.com/"),
        "provider.issuer",
        "is plain http: the client secret and every token would cross the network unencrypted; \
         use https://",
    );
    one_error(
        &issuer("http://10.0.0.5:8080"),
        "provider.issuer",
        "use https://",
    );
    for url in [
        "http://127.0.0.1:9400",
        "http://localhost:9400/",
        "http://[::1]:9400",
    ] {
        assert_eq!(ok(&issuer(url)).provider.issuer.scheme(), "http", "{url}");
    }
}

#[test]
fn scope_or_audience_on_an_auth_none_route_is_an_error() {
    let text = with_route_line("auth: none") + "    scope: read\n    audience: https://a.example\n";
    assert_eq!(
        errors(&text),
        vec![
            "routes[0].audience: has no effect with auth: none (no token is attached): remove \
             it, or set auth: required or optional, or grant: client_credentials",
            "routes[0].scope: has no effect with auth: none (no token is attached): remove it, \
             or set auth: required or optional, or grant: client_credentials",
        ]
    );
    // An empty scope is no scope.
    assert_eq!(
        ok(&(with_route_line("auth: none") + "    scope: \"\"\n"))
            .routes
            .len(),
        1
    );
}

#[test]
fn a_plain_http_public_url_is_a_warning_unless_it_is_loopback() {
    let public = |url: &str| MINIMAL.replace("\"http://127.0.0.1:8080\"", &format!("\"{url}\""));
    let found = warnings(&public("http://app.example.com"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "warning: server.public_url: is http:// on a host other than this \
             machine, so the session cookie is sent without Secure"
        ),
        "{found:?}"
    );
    for url in [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "https://app.example.com",
    ] {
        assert!(warnings(&public(url)).is_empty(), "{url}");
    }
}

#[test]
fn csrf_false_is_an_error_on_a_route_that_reads_the_session() {
    for auth in ["required", "optional"] {
        let text = with_route_line(&format!("auth: {auth}")) + "    csrf: false\n";
        one_error(
            &text,
            "routes[0].csrf",
            "false is allowed only with auth: none (webhooks that carry no session)",
        );
    }
    one_error(
        &with_route_line("csrf: false"),
        "routes[0].csrf",
        "auth: none",
    );
    let c = ok(&(with_route_line("auth: none") + "    csrf: false\n"));
    assert!(!c.routes[0].csrf);
}

#[test]
fn warnings_come_in_document_order_and_never_stop_a_config() {
    let text = with_login_scope("openid")
        .replace("\"http://127.0.0.1:8080\"", "\"http://app.example.com\"")
        .replace(
            "  client_id: \"${TOKENGATE_CLIENT_ID}\"",
            "  client_id: \"$ID\"",
        );
    let found = warnings(&text);
    let paths: Vec<&str> = found
        .iter()
        .filter_map(|w| w.strip_prefix("warning: ")?.split(':').next())
        .collect();
    assert_eq!(
        paths,
        vec![
            "server.public_url",
            "provider.client_id",
            "provider.login.scope"
        ]
    );
}

/// The configs a user meets first: the commented example, the demo's and the load benchmark's
/// (its `@PLACEHOLDERS@` filled in as `benches/load/run.sh` does).
#[test]
fn shipped_configs_pass_check_without_warnings() {
    let bench = |text: &str| {
        text.replace("@TOKENGATE_PORT@", "8080")
            .replace("@PROVIDER_URL@", "http://127.0.0.1:9400")
            .replace("@UPSTREAM_URL@", "http://127.0.0.1:9101")
            .replace("@SESSION_KEY@", KEY_A)
    };
    let shipped = [
        (
            "routes.yaml",
            include_str!("../../../routes.yaml").to_owned(),
        ),
        (
            "demo/routes.yaml",
            // run.sh generates the demo's assertion key; any P-256 key file checks the same.
            include_str!("../../../demo/routes.yaml").replace(
                "demo/logs/assertion.pem",
                "src/jwt_crypto/testdata/p256.key.pem",
            ),
        ),
        (
            "benches/load/conf/tokengate.yaml",
            bench(include_str!("../../../benches/load/conf/tokengate.yaml")),
        ),
        (
            "benches/load/conf/tokengate-storm.yaml",
            bench(include_str!(
                "../../../benches/load/conf/tokengate-storm.yaml"
            )),
        ),
    ];
    for (name, text) in shipped {
        match check_str(&text, &env) {
            Ok(checked) => assert!(
                checked.warnings.is_empty(),
                "{name}: {:?}",
                checked.warnings
            ),
            Err(e) => panic!("{name}:\n{e}"),
        }
    }
}

#[test]
fn bearer_accept_needs_a_session_route_and_an_audience() {
    // No route audience and no login audience: nothing to check `aud` against.
    one_error(
        &with_route_line("bearer: accept"),
        "routes[0].bearer",
        "accept needs an audience to check the token's aud against",
    );
    let with_audience = with_route_line("bearer: accept") + "    audience: https://a.example\n";
    let c = ok(&with_audience);
    assert_eq!(c.routes[0].bearer, BearerMode::Accept);
    let login = with_route_line("bearer: accept").replace(
        "session:\n",
        "  login:\n    audience: https://login.example\nsession:\n",
    );
    assert_eq!(ok(&login).routes[0].bearer, BearerMode::Accept);
    assert_eq!(ok(MINIMAL).routes[0].bearer, BearerMode::Reject);
    one_error(
        &(with_route_line("auth: none") + "    bearer: accept\n"),
        "routes[0].bearer",
        "accept needs auth: required or optional",
    );
    one_error(
        &with_route_line("bearer: maybe"),
        "routes[0].bearer",
        "reject",
    );
}

#[test]
fn max_cached_token_sets_must_fit_the_cookie_limits() {
    let text = format!("{MINIMAL}tokens:\n  max_cached: 4\nlimits:\n  max_cookie_chunks: 2\n");
    one_error(
        &text,
        "tokens.max_cached",
        "4 token sets of about 1536 bytes do not fit in a session cookie of \
         limits.max_cookie_chunks 2 and limits.max_cookie_bytes 73728: set tokens.max_cached to \
         at most 1, raise limits.max_cookie_chunks or limits.max_cookie_bytes, or use \
         session.store: redis",
    );
    ok(&format!(
        "{MINIMAL}tokens:\n  max_cached: 1\nlimits:\n  max_cookie_chunks: 2\n"
    ));
    // The defaults pass, and so do 28 token sets in the default limits.
    ok(MINIMAL);
    ok(&format!("{MINIMAL}tokens:\n  max_cached: 28\n"));
}
