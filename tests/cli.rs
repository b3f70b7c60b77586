//! The command line (docs/reference.md#command-line): `check` validates a config without serving,
//! reports every problem with its field path and warns about settings that break at run time;
//! `keygen` prints a usable session key; a bad config stops `run`, a warning does not.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use support::gateway::run_cli;

/// A complete, valid config; `{listen}` etc. are fixed, nothing is contacted by `check`.
fn valid_yaml() -> String {
    format!(
        r#"server:
  listen: "127.0.0.1:{port}"
  public_url: "http://127.0.0.1:{port}"
provider:
  issuer: "http://127.0.0.1:9"
  client_id: "${{TG_CLI_TEST_CLIENT_ID:-cli-client}}"
  client_secret: "${{TG_CLI_TEST_SECRET}}"
  client_auth: client_secret_post
  resource_param: audience
  login:
    scope: "openid offline_access"
    audience: "https://api.example"
  timeout: 5s
session:
  cookie_name: tokengate
  keys: ["{key}"]
  absolute_lifetime: 7d
  idle_timeout: 24h
tokens:
  expiry_leeway: 60s
  max_cached: 16
routes:
  - name: orders
    path_prefix: /api/orders
    upstream: "http://127.0.0.1:9101"
    audience: "https://orders.example"
    scope: "read:orders"
  - name: public
    path_prefix: /public
    upstream: "http://127.0.0.1:9102"
    auth: none
"#,
        port = support::free_port(),
        key = support::cookie::test_key_b64(),
    )
}

const SECRET_ENV: (&str, &str) = ("TG_CLI_TEST_SECRET", "s3cret-value");

#[test]
fn check_accepts_a_valid_file() {
    let (status, stdout, stderr) = run_cli(&["check"], Some(&valid_yaml()), &[SECRET_ENV]);
    assert_eq!(status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout.trim(), "ok");
    assert!(!stdout.contains("s3cret-value") && !stderr.contains("s3cret-value"));
}

/// `check` on `yaml` must fail with exit 1 and mention every one of `expected`.
fn assert_check_fails(yaml: &str, expected: &[&str]) {
    let (status, stdout, stderr) = run_cli(&["check"], Some(yaml), &[SECRET_ENV]);
    let out = format!("{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(1), "output: {out}");
    assert!(!stdout.trim().eq("ok"), "printed ok: {out}");
    for want in expected {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn check_reports_an_unknown_key() {
    let yaml = valid_yaml().replace("    scope: \"read:orders\"", "    scopes: \"read:orders\"");
    assert_check_fails(&yaml, &["routes[0]", "scopes"]);
}

#[test]
fn check_reports_a_missing_variable_by_name() {
    let (status, stdout, stderr) = run_cli(&["check"], Some(&valid_yaml()), &[]);
    let out = format!("{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(1), "output: {out}");
    assert!(
        out.contains("TG_CLI_TEST_SECRET"),
        "variable not named: {out}"
    );
}

#[test]
fn check_reports_a_bad_duration() {
    let yaml = valid_yaml().replace("timeout: 5s", "timeout: 5 parsecs");
    assert_check_fails(&yaml, &["provider.timeout"]);
}

#[test]
fn check_reports_a_duplicate_route_name() {
    let yaml = valid_yaml().replace("  - name: public", "  - name: orders");
    assert_check_fails(&yaml, &["routes[1].name"]);
}

#[test]
fn check_reports_every_problem_at_once() {
    let yaml = valid_yaml()
        .replace("timeout: 5s", "timeout: 5 parsecs")
        .replace("  - name: public", "  - name: orders")
        .replace("expiry_leeway: 60s", "expiry_leeway: 60s\n  max_cahced: 3")
        .replace("${TG_CLI_TEST_SECRET}", "${TG_CLI_TEST_MISSING}");
    assert_check_fails(
        &yaml,
        &[
            "provider.timeout",
            "routes[1].name",
            "max_cahced",
            "TG_CLI_TEST_MISSING",
        ],
    );
}

/// `valid_yaml` with two settings that load but break at run time: a `$NAME` without braces
/// (taken literally) and a login scope without `offline_access`.
fn yaml_with_warnings() -> String {
    valid_yaml()
        .replace(
            "\"${TG_CLI_TEST_CLIENT_ID:-cli-client}\"",
            "\"$TG_CLI_TEST_CLIENT_ID\"",
        )
        .replace("scope: \"openid offline_access\"", "scope: \"openid\"")
}

#[test]
fn check_prints_warnings_with_their_field_and_still_exits_0() {
    let (status, stdout, stderr) = run_cli(&["check"], Some(&yaml_with_warnings()), &[SECRET_ENV]);
    assert_eq!(status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("warning: provider.client_id: \"$\" followed by a name is kept as is"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("warning: provider.login.scope: has no offline_access"),
        "{stdout}"
    );
    assert!(lines[1].ends_with("add offline_access"), "{stdout}");
    assert_eq!(lines[2], "ok");
}

#[test]
fn check_refuses_settings_that_break_at_run_time() {
    let base = valid_yaml();
    let listen = base
        .lines()
        .find_map(|l| l.trim().strip_prefix("listen: "))
        .unwrap()
        .to_owned();
    let yaml = base
        .replace(
            "  public_url:",
            &format!("  admin_listen: {listen}\n  public_url:"),
        )
        .replace("\"http://127.0.0.1:9\"", "\"http://issuer.example\"")
        .replace("${TG_CLI_TEST_SECRET}", "${TG_CLI_TEST_EMPTY:-}")
        .replace(
            "scope: \"read:orders\"",
            "scope: \"read:orders,write:orders\"",
        )
        .replace("    auth: none", "    auth: none\n    scope: read")
        + "  - name: wild\n    path_prefix: /wild/*\n    upstream: \"http://127.0.0.1:9103\"\n";
    assert_check_fails(
        &yaml,
        &[
            "server.admin_listen: must differ from server.listen",
            "provider.issuer: \"http://issuer.example\" is plain http",
            "provider.client_secret: must not be empty",
            "routes[0].scope: scopes are separated by spaces, not commas: write \
             \"read:orders write:orders\"",
            "routes[1].scope: has no effect with auth: none",
            "routes[2].path_prefix: \"/wild/*\" must not contain '*'",
        ],
    );
    let yaml = base.replace(
        "scope: \"read:orders\"",
        "scope: \"read:orders\"\n    csrf: false",
    );
    assert_check_fails(
        &yaml,
        &["routes[0].csrf: false is allowed only with auth: none"],
    );
}

#[test]
fn run_logs_each_warning_and_serves() {
    let gw = support::Gateway::start_with(&yaml_with_warnings(), &["run"], &[SECRET_ENV]);
    let logs = gw.logs();
    let warned = |field: &str| {
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains(&format!("config {field}: ")))
    };
    assert!(warned("provider.client_id"), "logs: {logs}");
    assert!(warned("provider.login.scope"), "logs: {logs}");
}

#[test]
fn run_refuses_a_broken_config() {
    let yaml = valid_yaml()
        .replace("timeout: 5s", "timeout: soon")
        .replace("${TG_CLI_TEST_SECRET}", "literal-secret");
    let (status, logs) = support::Gateway::start_expect_fail(&yaml);
    assert!(!status.success(), "logs: {logs}");
    assert!(logs.contains("provider.timeout"), "logs: {logs}");
}

#[test]
fn run_is_the_default_command_and_reads_tokengate_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.yaml");
    std::fs::write(&path, valid_yaml().replace("timeout: 5s", "timeout: soon")).unwrap();
    let (status, stdout, stderr) = run_cli(
        &[],
        None,
        &[SECRET_ENV, ("TOKENGATE_CONFIG", path.to_str().unwrap())],
    );
    assert!(!status.success());
    let out = format!("{stdout}\n{stderr}");
    assert!(
        out.contains("provider.timeout"),
        "the file was not loaded: {out}"
    );
}

#[test]
fn keygen_prints_a_32_byte_base64url_key() {
    let (status, stdout, stderr) = run_cli(&["keygen"], None, &[]);
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let key = stdout.trim();
    assert_eq!(key.len(), 43, "{key:?}");
    assert!(key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(URL_SAFE_NO_PAD.decode(key).unwrap().len(), 32);

    let (_, again, _) = run_cli(&["keygen"], None, &[]);
    assert_ne!(again.trim(), key, "keygen is not random");
}
