//! The validated, typed configuration the rest of the gateway works from. It is separate from the
//! file format (`config::load` walks the YAML, checks every field and builds these), so the rest
//! of the code never sees a raw string where a URL, a duration or a key is meant.

use crate::scope::Scope;
use std::net::SocketAddr;
use std::time::Duration;
use url::Url;

#[derive(Clone, Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub provider: ProviderConfig,
    pub session: SessionConfig,
    pub tokens: TokensConfig,
    pub limits: LimitsConfig,
    pub routes: Vec<RouteConfig>,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The external origin; `redirect_uri` is `public_url` + `/auth/callback`.
    pub public_url: Url,
    pub admin_listen: Option<SocketAddr>,
    /// Worker threads; `None` means the number of cores.
    pub threads: Option<usize>,
    /// How long `SIGTERM` waits for in-flight requests (`server.grace_period`, default 30s).
    pub grace_period: Duration,
}

impl ServerConfig {
    /// True when the public origin is https: cookies then get `Secure` and the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of `public_url`, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    ClientSecretPost,
    ClientSecretBasic,
}

/// How the target API is named in token requests: Auth0's `audience` or RFC 8707's `resource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceParam {
    Audience,
    Resource,
}

impl ResourceParam {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceParam::Audience => "audience",
            ResourceParam::Resource => "resource",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub client_auth: ClientAuth,
    pub resource_param: ResourceParam,
    pub login: LoginConfig,
    /// Per token-endpoint call.
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct LoginConfig {
    pub scope: Scope,
    /// The audience of the primary (login-time) access token.
    pub audience: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Cookie,
    Redis,
}

#[derive(Clone)]
pub struct SessionConfig {
    pub cookie_name: String,
    /// The first key seals; every key opens.
    pub keys: Vec<[u8; 32]>,
    pub store: StoreKind,
    pub redis_url: Option<Secret>,
    pub absolute_lifetime: Duration,
    pub idle_timeout: Option<Duration>,
}

/// Debug output never shows a session key.
impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("cookie_name", &self.cookie_name)
            .field("keys", &format_args!("[{} keys]", self.keys.len()))
            .field("store", &self.store)
            .field("redis_url", &self.redis_url)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct TokensConfig {
    pub expiry_leeway: Duration,
    pub max_cached: usize,
}

/// The `limits:` section: how much a client may send and how long anyone may take, so a slow or
/// hostile peer costs the gateway a bounded amount of memory and time (see `proxy::limits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Request line plus every header field, in bytes; more is `431`.
    pub max_header_bytes: usize,
    /// All `Cookie` header values together, in bytes; more is `431`.
    pub max_cookie_bytes: usize,
    /// Session cookie chunks read; a request carrying more has no session.
    pub max_cookie_chunks: usize,
    /// From connection open (or the previous response) to the end of the request header.
    pub client_header_timeout: Duration,
    /// Longest wait for the next piece of a request body.
    pub client_body_timeout: Duration,
    /// TCP connect (and TLS handshake) to an upstream.
    pub upstream_connect_timeout: Duration,
    /// Longest wait for the next piece of an upstream response.
    pub upstream_read_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Required,
    Optional,
    None,
}

#[derive(Clone, Debug)]
pub struct RouteConfig {
    pub name: String,
    /// Normalised: starts with `/`, no trailing `/` (except the root prefix `/` itself).
    pub path_prefix: String,
    pub host: Option<String>,
    pub upstream: Upstream,
    pub strip_prefix: bool,
    pub auth: AuthMode,
    /// `None` means the login audience.
    pub audience: Option<String>,
    pub scope: Scope,
    pub csrf: bool,
}

/// A parsed `http://` or `https://` origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Upstream {
    /// `host:port`, what the connector dials.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A string that never appears in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}
