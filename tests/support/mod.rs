//! The end-to-end harness shared by every integration test: it starts the real `tokengate`
//! binary on an ephemeral loopback port, an echo upstream that reports what it received, and a
//! mock OpenID provider whose token endpoint models Auth0 refresh-token rotation and can be told
//! to misbehave. Tests then speak plain HTTP to the gateway, so they prove what the reference
//! (`docs/reference.md`) says, whatever the implementation inside looks like.
//!
//! Each test file includes this module with `mod support;` and uses a different subset of it,
//! hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cookie;
pub mod echo;
pub mod gateway;
pub mod provider;
pub mod raw;
pub mod redis_scenario;
pub mod redis_server;
pub mod scenario;
pub mod signing;

#[allow(unused_imports)]
pub use cookie::{
    cookie_for, mint_cookie, open_cookie_header, open_set_cookies, session_for, token_set, TEST_KEY,
};
#[allow(unused_imports)]
pub use echo::EchoUpstream;
#[allow(unused_imports)]
pub use gateway::Gateway;
#[allow(unused_imports)]
pub use provider::{Fault, MockProvider, TokenCall};

use std::net::TcpListener;

/// A loopback port that was free a moment ago. The tiny window before the gateway binds it is
/// accepted: the alternative (letting the gateway pick and report its port) is not something
/// the gateway offers.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// The HTTP client every test uses: no redirects followed (302s are asserted, not chased), no
/// cookie store (tests send exactly the cookies they mean to), rustls with ring like the gateway.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("build reqwest client")
}

/// The config knobs the tests vary; everything else is the fixed test setup.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    pub port: u16,
    pub issuer: String,
    pub client_auth: &'static str,
    pub resource_param: &'static str,
    pub timeout: &'static str,
    pub expiry_leeway: &'static str,
    pub max_cached: usize,
    pub routes_yaml: String,
    /// `session.store: redis` with this `session.redis_url`; `None`: the cookie store.
    pub redis_url: Option<String>,
    /// `session.idle_timeout`, when set.
    pub idle_timeout: Option<&'static str>,
    /// `server.admin_listen` on this loopback port, when set.
    pub admin_port: Option<u16>,
    /// `server.tls` with these certificate and key files, and an https `public_url` on
    /// `localhost`; `None`: a plain listener.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Further lines under `server:`, `provider:`, `tokens:` and `limits:` (without
    /// indentation).
    pub server_extra: Vec<String>,
    pub provider_extra: Vec<String>,
    pub tokens_extra: Vec<String>,
    pub limits_extra: Vec<String>,
}

impl ConfigBuilder {
    pub fn new(provider: &MockProvider, routes_yaml: &str) -> Self {
        ConfigBuilder {
            port: free_port(),
            issuer: provider.issuer(),
            client_auth: "client_secret_post",
            resource_param: "audience",
            timeout: "1s",
            expiry_leeway: "60s",
            max_cached: 4,
            routes_yaml: routes_yaml.to_owned(),
            redis_url: None,
            idle_timeout: None,
            admin_port: None,
            tls: None,
            server_extra: Vec::new(),
            provider_extra: Vec::new(),
            tokens_extra: Vec::new(),
            limits_extra: Vec::new(),
        }
    }

    /// A TLS listener with the certificate chain at `cert` and its key at `key`.
    pub fn tls(mut self, cert: &std::path::Path, key: &std::path::Path) -> Self {
        self.tls = Some((cert.to_owned(), key.to_owned()));
        self
    }

    /// The public origin: `https://localhost:<port>` with TLS, else `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        match self.tls {
            Some(_) => format!("https://localhost:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// `session.store: redis` with `url` as `session.redis_url`.
    pub fn redis(mut self, url: &str) -> Self {
        self.redis_url = Some(url.to_owned());
        self
    }

    pub fn idle_timeout(mut self, v: &'static str) -> Self {
        self.idle_timeout = Some(v);
        self
    }

    /// An admin listener on a free loopback port (see [`ConfigBuilder::admin_url`]).
    pub fn with_admin(mut self) -> Self {
        self.admin_port = Some(free_port());
        self
    }

    /// `http://127.0.0.1:<admin port><path>`; panics when no admin listener is configured.
    pub fn admin_url(&self, path: &str) -> String {
        let port = self.admin_port.expect("config has an admin listener");
        format!("http://127.0.0.1:{port}{path}")
    }

    /// The same config for another replica: another listener (and admin) port.
    pub fn replica(&self) -> Self {
        let mut next = self.clone();
        next.port = free_port();
        next.admin_port = self.admin_port.map(|_| free_port());
        next
    }

    pub fn client_auth(mut self, v: &'static str) -> Self {
        self.client_auth = v;
        self
    }

    pub fn resource_param(mut self, v: &'static str) -> Self {
        self.resource_param = v;
        self
    }

    /// `provider.rotates_refresh_tokens`.
    pub fn rotates_refresh_tokens(mut self, on: bool) -> Self {
        self.provider_extra
            .push(format!("rotates_refresh_tokens: {on}"));
        self
    }

    /// One more `key: value` line under `server:`.
    pub fn server_line(mut self, line: &str) -> Self {
        self.server_extra.push(line.to_owned());
        self
    }

    /// One more `key: value` line under `tokens:`.
    pub fn tokens_line(mut self, line: &str) -> Self {
        self.tokens_extra.push(line.to_owned());
        self
    }

    /// One more `key: value` line under `limits:`.
    pub fn limits_line(mut self, line: &str) -> Self {
        self.limits_extra.push(line.to_owned());
        self
    }

    pub fn max_cached(mut self, n: usize) -> Self {
        self.max_cached = n;
        self
    }

    /// The full `routes.yaml` (docs/reference.md#routesyaml).
    pub fn build(&self) -> String {
        format!(
            r#"server:
  listen: "127.0.0.1:{port}"
  public_url: "{origin}"
  threads: 1
{admin}{tls}{server_extra}
provider:
  issuer: "{issuer}"
  client_id: "{client_id}"
  client_secret: "{client_secret}"
  client_auth: {client_auth}
  resource_param: {resource_param}
  login:
    scope: "openid offline_access"
    audience: "{login_audience}"
  timeout: {timeout}
{provider_extra}
session:
  cookie_name: {cookie}
  keys: ["{key}"]
  absolute_lifetime: 7d
{session_extra}
tokens:
  expiry_leeway: {leeway}
  max_cached: {max_cached}
{tokens_extra}{limits}
routes:
{routes}
"#,
            port = self.port,
            origin = self.origin(),
            tls = self
                .tls
                .as_ref()
                .map(|(c, k)| {
                    format!(
                        "  tls: {{ cert: \"{}\", key: \"{}\" }}\n",
                        c.display(),
                        k.display()
                    )
                })
                .unwrap_or_default(),
            admin = self
                .admin_port
                .map(|p| format!("  admin_listen: \"127.0.0.1:{p}\"\n"))
                .unwrap_or_default(),
            server_extra = indented(&self.server_extra),
            session_extra = self.session_extra(),
            provider_extra = indented(&self.provider_extra),
            tokens_extra = indented(&self.tokens_extra),
            limits = if self.limits_extra.is_empty() {
                String::new()
            } else {
                format!("limits:\n{}", indented(&self.limits_extra))
            },
            issuer = self.issuer,
            client_id = provider::CLIENT_ID,
            client_secret = provider::CLIENT_SECRET,
            client_auth = self.client_auth,
            resource_param = self.resource_param,
            login_audience = LOGIN_AUDIENCE,
            timeout = self.timeout,
            cookie = COOKIE,
            key = cookie::test_key_b64(),
            leeway = self.expiry_leeway,
            max_cached = self.max_cached,
            routes = self.routes_yaml.trim_end(),
        )
    }
}

impl ConfigBuilder {
    /// The `session:` lines for the store and the idle timeout (none for the defaults).
    fn session_extra(&self) -> String {
        let mut s = String::new();
        if let Some(url) = &self.redis_url {
            s.push_str(&format!("  store: redis\n  redis_url: \"{url}\"\n"));
        }
        if let Some(idle) = self.idle_timeout {
            s.push_str(&format!("  idle_timeout: {idle}\n"));
        }
        s
    }
}

/// Each line indented under a section, newline-terminated.
fn indented(lines: &[String]) -> String {
    lines.iter().map(|l| format!("  {l}\n")).collect()
}

/// The session cookie name every test config uses.
pub const COOKIE: &str = "tokengate";
/// The login (primary) audience every test config uses.
pub const LOGIN_AUDIENCE: &str = "https://api.example";
/// The login scope every test config uses.
pub const LOGIN_SCOPE: &str = "openid offline_access";

/// A full config with the default knobs and the given `routes:` entries (already indented).
pub fn config(provider: &MockProvider, routes_yaml: &str) -> String {
    ConfigBuilder::new(provider, routes_yaml).build()
}

/// One `routes:` entry; `extra` holds further `key: value` lines (without indentation).
pub fn route(name: &str, prefix: &str, upstream: &str, extra: &[&str]) -> String {
    let mut s =
        format!("  - name: {name}\n    path_prefix: {prefix}\n    upstream: \"{upstream}\"\n");
    for line in extra {
        s.push_str("    ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// The `Set-Cookie` values of a response.
pub fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// Builds the `Cookie` header a browser would send after receiving `set_cookie` values:
/// cookies set with a non-empty value and without `Max-Age=0`, `name=value` joined by `; `.
pub fn cookie_header_from(set_cookie: &[String]) -> String {
    let mut pairs: Vec<String> = Vec::new();
    for sc in set_cookie {
        let first = sc.split(';').next().unwrap_or("").trim();
        let cleared = sc
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        if let Some((name, value)) = first.split_once('=') {
            pairs.retain(|p| !p.starts_with(&format!("{name}=")));
            if !cleared && !value.is_empty() {
                pairs.push(format!("{name}={value}"));
            }
        }
    }
    pairs.join("; ")
}

/// True when `set_cookie` contains a header clearing cookie `name` (empty value, `Max-Age=0`).
pub fn clears_cookie(set_cookie: &[String], name: &str) -> bool {
    set_cookie.iter().any(|sc| {
        let mut parts = sc.split(';').map(str::trim);
        let first = parts.next().unwrap_or("");
        first == format!("{name}=") && parts.any(|a| a.eq_ignore_ascii_case("max-age=0"))
    })
}

/// Parses a response body as JSON, showing the raw body when it is not JSON.
pub async fn json_body(resp: reqwest::Response) -> serde_json::Value {
    let text = resp.text().await.expect("read body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?}"))
}
