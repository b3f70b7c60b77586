//! No log line ever carries a token, cookie value, client secret or session key
//! (docs/reference.md#command-line), even at `debug` (`trace` for tokengate itself): a whole
//! scenario — cache hit, refresh with rotation, a stale cookie, failure rows, a tampered cookie, an
//! ended grant, logout, a route with a policy, identity headers, a static API key and the signed
//! assertion (claim values, header values and the assertion are secrets too) — runs against the real binary, every secret that crossed the wire is
//! collected, and the gateway's output is searched for each. Also: `--log-format json` writes one
//! JSON object per line, with the access-log fields at the top level.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use std::time::Duration;
use support::provider::CLIENT_SECRET;
use support::{
    client, cookie_for, cookie_header_from, open_set_cookies, route, session_for, set_cookies,
    ConfigBuilder, EchoUpstream, Fault, Gateway, MockProvider, COOKIE, TEST_KEY,
};

/// Everything secret seen during the scenario.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn add(&mut self, s: &str) {
        if !s.is_empty() && !self.0.iter().any(|k| k == s) {
            self.0.push(s.to_owned());
        }
    }

    /// The values of a `Cookie` header.
    fn add_cookie_header(&mut self, header: &str) {
        for pair in header.split(';') {
            if let Some((_, v)) = pair.trim().split_once('=') {
                self.add(v);
            }
        }
    }

    /// What a response carried: `Set-Cookie` values, the session they hold (refresh, ID and
    /// access tokens), and the Bearer token the echo upstream received.
    async fn add_response(&mut self, resp: reqwest::Response) -> (u16, Vec<String>) {
        let status = resp.status().as_u16();
        let set = set_cookies(&resp);
        for sc in &set {
            let first = sc.split(';').next().unwrap_or("");
            if let Some((_, v)) = first.split_once('=') {
                self.add(v);
            }
        }
        if let Some(s) = open_set_cookies(&set) {
            self.add(s.refresh_token.as_deref().unwrap_or(""));
            self.add(s.id_token.as_deref().unwrap_or(""));
            for t in s.primary.iter().chain(s.extra.iter()) {
                self.add(&t.access_token);
            }
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if let Some(auth) = body["headers"]["authorization"][0].as_str() {
            self.add(auth.trim_start_matches("Bearer "));
        }
        (status, set)
    }
}

fn routes(echo: &EchoUpstream) -> String {
    [
        route("me", "/api/me", &echo.url(), &[]),
        route(
            "orders",
            "/api/orders",
            &echo.url(),
            &[
                "audience: \"https://orders.example\"",
                "scope: \"read:orders\"",
            ],
        ),
        route(
            "inventory",
            "/api/inventory",
            &echo.url(),
            &["audience: \"https://inventory.example\""],
        ),
        route(
            "admin",
            "/api/admin",
            &echo.url(),
            &[
                "require:",
                &format!("  groups: \"{ADMIN_GROUP}\""),
                "identity_headers:",
                "  X-User-Groups: groups",
                "  X-User-Email: email",
                "identity_assertion: true",
                "upstream_headers:",
                &format!("  X-Api-Key: \"{API_KEY}\""),
            ],
        ),
    ]
    .concat()
}

/// Claim and header values of the admin route: secrets, never logged.
const ADMIN_GROUP: &str = "admins-7f3c9e1d";
const OTHER_GROUP: &str = "staff-5b2e8a4c";
const API_KEY: &str = "static-api-key-9d41c6";

/// A session that keeps `groups`, as a login with the admin route's config makes it.
fn session_in(group: &str, rt: &str, at: &str) -> tokengate::session::model::Session {
    let mut s = session_for(rt, at);
    let source = serde_json::json!({ "groups": [group] });
    let used = ["groups".to_owned()].into();
    s.claims =
        tokengate::session::claims::Claims::keep(source.as_object().expect("an object"), &used);
    s
}

/// A token that cannot be mistaken for anything else in a log.
fn unique(prefix: &str) -> String {
    let bytes: [u8; 18] = rand::random();
    format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Runs the scenario; returns every secret seen.
async fn scenario(gw: &Gateway, provider: &MockProvider) -> Secrets {
    let http = client();
    let mut secrets = Secrets::default();
    let send = |path: &str, cookie: &str| {
        let mut req = http.get(gw.url(path));
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        req
    };

    let rt0 = provider.mint_refresh_token();
    let primary = unique("primary-at");
    secrets.add(&rt0);
    secrets.add(&primary);
    let c0 = format!(
        "{}; other=unrelated-cookie-value-4f2a",
        cookie_for(&session_for(&rt0, &primary))
    );
    secrets.add_cookie_header(&c0);

    // Hit on the primary token; the client's own Authorization header is dropped.
    let client_bearer = unique("client-sent-token");
    secrets.add(&client_bearer);
    let resp = send("/api/me", &c0)
        .header("authorization", format!("Bearer {client_bearer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(secrets.add_response(resp).await.0, 200);

    // Miss: a refresh with rotation, a new cookie.
    let (status, set) = secrets
        .add_response(send("/api/orders/1", &c0).send().await.unwrap())
        .await;
    assert_eq!(status, 200);
    let mut current = cookie_header_from(&set);
    assert!(current.starts_with(&format!("{COOKIE}=")), "{set:?}");
    // Hit from the new cookie; the stale cookie is served from the latest state.
    let (status, _) = secrets
        .add_response(send("/api/orders/2", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 200);
    let (status, _) = secrets
        .add_response(send("/api/orders/3", &c0).send().await.unwrap())
        .await;
    assert_eq!(status, 200);

    // Failure rows: unavailable, denied, wrong audience (rotating).
    provider.set_fault(Fault::Status(
        503,
        "{\"error\":\"temporarily_unavailable\"}".into(),
    ));
    let (status, _) = secrets
        .add_response(send("/api/inventory", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 503);
    provider.set_fault(Fault::Status(400, "{\"error\":\"invalid_scope\"}".into()));
    let (status, _) = secrets
        .add_response(send("/api/inventory", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 403);
    provider.set_fault(Fault::WrongAudience);
    let (status, set) = secrets
        .add_response(send("/api/inventory", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 403);
    provider.clear_fault();
    if !set.is_empty() {
        current = cookie_header_from(&set);
    }

    // A tampered cookie: no session, cleared.
    let value = current
        .strip_prefix(&format!("{COOKIE}="))
        .unwrap_or_default()
        .to_owned();
    let mut tampered: Vec<char> = value.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{COOKIE}={}", tampered.into_iter().collect::<String>());
    secrets.add_cookie_header(&tampered);
    let (status, _) = secrets
        .add_response(send("/api/orders/4", &tampered).send().await.unwrap())
        .await;
    assert_eq!(status, 401);

    // The session endpoint, then a grant the provider no longer knows (invalid_grant).
    let (status, _) = secrets
        .add_response(send("/auth/session", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 200);
    let dead_rt = unique("rt-unknown");
    secrets.add(&dead_rt);
    let dead = cookie_for(&session_for(&dead_rt, &unique("primary-at-2")));
    secrets.add_cookie_header(&dead);
    let (status, _) = secrets
        .add_response(send("/api/orders/5", &dead).send().await.unwrap())
        .await;
    assert_eq!(status, 401);

    // A policy that allows (identity headers, the API key, the assertion) and one that denies.
    for group in [ADMIN_GROUP, OTHER_GROUP, API_KEY, "user@example.com"] {
        secrets.add(group);
    }
    let admin = cookie_for(&session_in(ADMIN_GROUP, &dead_rt, &primary));
    let resp = send("/api/admin/x", &admin).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let assertion = body["headers"]["x-tokengate-assertion"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(assertion.starts_with("eyJ"), "{body}");
    secrets.add(&assertion);
    let other = cookie_for(&session_in(OTHER_GROUP, &dead_rt, &primary));
    let (status, _) = secrets
        .add_response(send("/api/admin/x", &other).send().await.unwrap())
        .await;
    assert_eq!(status, 403);

    // Logout.
    let (status, _) = secrets
        .add_response(send("/auth/logout", &current).send().await.unwrap())
        .await;
    assert_eq!(status, 302);
    secrets
}

/// Waits until the access-log line of the last request is written.
async fn settled_logs(gw: &Gateway, requests: usize) -> String {
    for _ in 0..100 {
        let logs = gw.logs();
        if logs.matches("tokengate::access").count() >= requests {
            return logs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gw.logs()
}

fn assert_no_secret(logs: &str, secrets: &Secrets) {
    let key = URL_SAFE_NO_PAD.encode(TEST_KEY);
    let mut needles: Vec<String> = secrets.0.clone();
    needles.push(CLIENT_SECRET.to_owned());
    // The key in any form a log could hold it: any 16-character window of its base64, and
    // the raw bytes (the test key is ASCII).
    needles.extend((0..=key.len() - 16).map(|i| key[i..i + 16].to_owned()));
    needles.push(String::from_utf8_lossy(&TEST_KEY).into_owned());
    for needle in &needles {
        if let Some(line) = logs.lines().find(|l| l.contains(needle.as_str())) {
            panic!("secret {needle:?} in the log line:\n{line}");
        }
    }
}

async fn run_with(rust_log: &str) -> (String, Secrets) {
    let provider = MockProvider::start().await;
    let echo = EchoUpstream::start().await;
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/jwt_crypto/testdata/p256.key.pem"
    );
    let yaml = ConfigBuilder::new(&provider, &routes(&echo))
        .build()
        .replacen(
            "  threads: 1\n",
            &format!("  threads: 1\n  assertion_key: \"{key}\"\n"),
            1,
        );
    let gw = Gateway::start_with(&yaml, &["run"], &[("RUST_LOG", rust_log)]);
    let secrets = scenario(&gw, &provider).await;
    let logs = settled_logs(&gw, 13).await;
    // The scenario really exercised what it claims.
    assert!(provider.call_count() >= 5, "{}", provider.call_count());
    assert!(
        secrets.0.len() >= 12,
        "secrets collected: {}",
        secrets.0.len()
    );
    (logs, secrets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_at_debug() {
    let (logs, secrets) = run_with("debug,tokengate=trace").await;
    assert_no_secret(&logs, &secrets);
    // The per-request line carries route, status, latency and the token decision.
    for decision in ["hit", "refreshed", "failed"] {
        assert!(
            logs.lines()
                .any(|l| l.contains("tokengate::access")
                    && l.contains(&format!("token=\"{decision}\""))),
            "no access-log line with token={decision}:\n{logs}"
        );
    }
    assert!(logs.lines().any(|l| l.contains("tokengate::access")
        && l.contains("route=orders")
        && l.contains("status=200")
        && l.contains("latency_ms=")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_at_trace() {
    let (logs, secrets) = run_with("trace").await;
    assert_no_secret(&logs, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let provider = MockProvider::start().await;
    let echo = EchoUpstream::start().await;
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/jwt_crypto/testdata/p256.key.pem"
    );
    let yaml = ConfigBuilder::new(&provider, &routes(&echo))
        .build()
        .replacen(
            "  threads: 1\n",
            &format!("  threads: 1\n  assertion_key: \"{key}\"\n"),
            1,
        );
    let gw = Gateway::start_with(
        &yaml,
        &["run", "--log-format", "json"],
        &[("RUST_LOG", "debug")],
    );
    let cookie = cookie_for(&session_for(
        &provider.mint_refresh_token(),
        &unique("primary-at"),
    ));
    let http = client();
    let ok = http
        .get(gw.url("/api/orders/1"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let missing = http.get(gw.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let logs = settled_logs(&gw, 2).await;
    let mut access = Vec::new();
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.is_object(), "not an object: {line}");
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        if v["target"] == "tokengate::access" {
            access.push(v);
        }
    }
    let orders = access
        .iter()
        .find(|v| v["route"] == "orders")
        .unwrap_or_else(|| panic!("no access line for orders:\n{logs}"));
    assert_eq!(orders["message"], "request");
    assert_eq!(orders["status"], 200);
    assert_eq!(orders["token"], "refreshed");
    assert!(orders["latency_ms"].is_string() || orders["latency_ms"].is_number());
    assert!(access
        .iter()
        .any(|v| v["status"] == 404 && v["error"] == "no_route"));
}

/// Sends `raw` over TCP and reads until the gateway closes (or 10 s pass).
async fn raw_exchange(port: u16, raw: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the gateway");
    let _ = stream.write_all(raw).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Requests that fail in pingora's own path (an invalid chunked body, a bad chunk line after the
/// head was forwarded, an upstream that refuses connections) carry a marker in their query,
/// cookies and headers; no line of the gateway's whole log, at `debug` for every crate, holds it.
#[tokio::test(flavor = "multi_thread")]
async fn failing_requests_leave_no_query_cookie_or_header_value_in_any_log_line() {
    let provider = MockProvider::start().await;
    let echo = EchoUpstream::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let routes = route("open", "/open", &echo.url(), &["auth: none"])
        + &route("down", "/down", &refused, &["auth: none"]);
    let yaml = ConfigBuilder::new(&provider, &routes).build();
    let gw = Gateway::start_with(&yaml, &["run"], &[("RUST_LOG", "debug,tokengate=trace")]);
    let marker = unique("query-marker");
    let head = |path: &str, framing: &str| {
        format!(
            "POST {path}?code={marker}&state={marker} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Cookie: other={marker}\r\nX-Note: {marker}\r\n{framing}\r\n\r\n",
            gw.port()
        )
    };
    let chunked = "Transfer-Encoding: chunked";
    let cases = [
        head("/open/x", chunked) + "zz\r\nhello\r\n0\r\n\r\n",
        head("/open/x", chunked) + "5\r\nhello\r\n2;\nxx\r\n0\r\n\r\n",
        head("/down/x", "Content-Length: 5\r\nConnection: close") + "hello",
        head("/down/x", chunked) + "5\r\nhello\r\n0\r\n\r\n",
    ];
    for raw in &cases {
        let answer = raw_exchange(gw.port(), raw.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 4") || answer.starts_with("HTTP/1.1 5"),
            "{answer:?}"
        );
    }
    let logs = settled_logs(&gw, cases.len()).await;
    assert!(logs.contains("/down/x") || logs.contains("down"), "{logs}");
    if let Some(line) = logs.lines().find(|l| l.contains(&marker)) {
        panic!("the marker is in the log line:\n{line}");
    }
}
