//! A route's access keys (docs/reference.md#access-policy-and-identity): `require:` compiled,
//! `identity_headers:` and `upstream_headers:` checked, and the rules between them, `auth` and
//! `server.assertion_key`.

use super::*;
use crate::policy::{evaluate, Claim, ClaimSource, Verdict};

fn with_route_lines(lines: &str) -> String {
    format!("{MINIMAL}{lines}")
}

struct Claims(Vec<(&'static str, serde_json::Value)>);

impl ClaimSource for Claims {
    fn claim(&self, name: &str) -> Claim<'_> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Claim::Absent, |(_, v)| Claim::Json(v))
    }
}

#[test]
fn require_is_compiled_and_evaluated() {
    let config = ok(&with_route_lines(
        "    require:\n      groups: [admins, ops]\n      email: \"*@example.com\"\n      \
         email_verified: true\n",
    ));
    let policy = &config.routes[0].require;
    let user = |groups, email| {
        Claims(vec![
            ("groups", groups),
            ("email", serde_json::json!(email)),
            ("email_verified", serde_json::json!(true)),
        ])
    };
    let admin = user(serde_json::json!(["staff", "ops"]), "a@example.com");
    assert_eq!(evaluate(policy, &admin), Verdict::Allow);
    let staff = user(serde_json::json!(["staff"]), "a@example.com");
    assert_eq!(evaluate(policy, &staff), Verdict::Deny { claim: "groups" });
    let foreign = user(serde_json::json!(["ops"]), "a@example.org");
    assert_eq!(evaluate(policy, &foreign), Verdict::Deny { claim: "email" });
}

#[test]
fn access_keys_with_auth_none_are_errors() {
    for key in [
        "require:\n      groups: admins",
        "identity_headers:\n      X-User: sub",
    ] {
        let text = with_route_lines(&format!("    auth: none\n    {key}\n"));
        let field = key.split(':').next().unwrap_or_default();
        one_error(
            &text,
            &format!("routes[0].{field}"),
            "has no effect with auth: none",
        );
    }
    let errs = errors(&with_route_lines(
        "    auth: none\n    identity_assertion: true\n",
    ));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("routes[0].identity_assertion: has no effect with auth: none")),
        "{errs:?}"
    );
}

#[test]
fn header_names_and_values_are_checked() {
    one_error(
        &with_route_lines("    identity_headers:\n      \"Bad Header\": sub\n"),
        "routes[0].identity_headers.Bad Header",
        "not a valid header name",
    );
    one_error(
        &with_route_lines("    identity_headers:\n      Cookie: sub\n"),
        "routes[0].identity_headers.Cookie",
        "set by the gateway",
    );
    one_error(
        &with_route_lines("    upstream_headers:\n      X-Tokengate-Assertion: x\n"),
        "routes[0].upstream_headers.X-Tokengate-Assertion",
        "belong to the gateway",
    );
    one_error(
        &with_route_lines("    upstream_headers:\n      Authorization: \"Basic x\"\n"),
        "routes[0].upstream_headers.authorization",
        "only with auth: none",
    );
    one_error(
        &with_route_lines("    upstream_headers:\n      X-Key: \"a\\r\\nX-Evil: 1\"\n"),
        "routes[0].upstream_headers.X-Key",
        "control characters",
    );
    one_error(
        &with_route_lines("    identity_headers:\n      X-User: sub\n      x-user: email\n"),
        "routes[0].identity_headers.x-user",
        "named twice",
    );
    let config = ok(&with_route_lines(
        "    upstream_headers:\n      X-Api-Key: \"k-1\"\n    identity_headers:\n      \
         X-Groups: groups\n",
    ));
    let route = &config.routes[0];
    assert_eq!(route.upstream_headers[0].name, "x-api-key");
    assert_eq!(route.upstream_headers[0].value, "k-1");
    assert_eq!(format!("{:?}", route.upstream_headers[0]), "x-api-key: ***");
    assert_eq!(route.identity_headers[0].claim, "groups");
}

#[test]
fn acr_values_must_be_exact_and_safe() {
    one_error(
        &with_route_lines("    require:\n      acr: \"urn:*\"\n"),
        "routes[0].require.acr",
        "must be exact",
    );
    one_error(
        &with_route_lines("    require:\n      acr: \"a\\\"b\"\n"),
        "routes[0].require.acr",
        "not an acr value",
    );
}

#[test]
fn the_assertion_needs_a_key() {
    one_error(
        &with_route_lines("    identity_assertion: true\n"),
        "routes[0].identity_assertion",
        "needs server.assertion_key",
    );
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/jwt_crypto/testdata/p256.key.pem"
    );
    let text = with_route_lines("    identity_assertion: true\n").replace(
        "  listen:",
        &format!("  assertion_key: \"{key}\"\n  listen:"),
    );
    let config = ok(&text);
    assert_eq!(config.server.signing_keys().count(), 1);
    let rsa = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/jwt_crypto/testdata/rsa2048.key.pem"
    );
    let errs = errors(&text.replace(key, rsa));
    assert!(
        errs.iter()
            .any(|e| e.contains("server.assertion_key") && e.contains("RSA")),
        "{errs:?}"
    );
}

#[test]
fn used_claims_are_those_the_routes_read() {
    let config = ok(&with_route_lines(
        "    require:\n      groups: admins\n      acr: gold\n    identity_headers:\n      \
         X-User: sub\n      X-Roles: roles\n",
    ));
    let used = crate::config::access::used_claims(&config.routes);
    let used: Vec<&str> = used.iter().map(String::as_str).collect();
    assert_eq!(used, ["acr", "groups", "roles"]);
}
