//! The validated, typed configuration the rest of the gateway works from. It is separate from the
//! file format (`config::load` walks the YAML, checks every field and builds these), so the rest
//! of the code never sees a raw string where a URL, a duration or a key is meant.

use crate::jwt_crypto::signing_key::SigningKey;
use crate::policy::Policy;
use crate::scope::Scope;
pub use crate::tls::upstream::{CaBundle, ClientCert};
use http::{HeaderName, HeaderValue};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
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
    /// The key that signs the identity assertion (`server.assertion_key`).
    pub assertion_key: Option<KeyFile>,
    /// Or a list for rotation (`server.assertion_keys`): the first signs, every one is published.
    pub assertion_keys: Vec<KeyFile>,
    /// TLS on the proxy listener; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Peers whose forwarding headers are believed (`server.trusted_proxies`, default none):
    /// their `X-Forwarded-For` is appended to, their `Forwarded`, `X-Real-IP` and
    /// `X-Forwarded-Proto/Host` kept.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// A certificate chain and its key, as PEM files (`server.tls`, `upstream_client_cert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
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

    /// The identity-assertion keys, the signing one first (`assertion_key` or
    /// `assertion_keys`; `check` refuses both at once).
    pub fn signing_keys(&self) -> impl Iterator<Item = &KeyFile> {
        self.assertion_key.iter().chain(self.assertion_keys.iter())
    }
}

/// A private key read from a file when the config was loaded (a reload reads it again).
#[derive(Clone)]
pub struct KeyFile {
    pub path: PathBuf,
    pub key: Arc<SigningKey>,
}

/// Debug output names the file and the key id, never the key.
impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .field("kid", &self.key.kid())
            .finish()
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
    /// Also read the user's claims from the userinfo endpoint (at login; refreshes keep them).
    pub userinfo: bool,
    /// `false` only for a provider declared never to rotate refresh tokens: exchanges of one
    /// session may then overlap (`docs/reference.md#provider`).
    pub rotates_refresh_tokens: bool,
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
    /// The latest-state map's memory bound (`docs/reference.md#concurrency-and-rotation`).
    pub latest_state_max_bytes: usize,
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

/// What a route does with a client's own `Authorization: Bearer` (`bearer:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BearerMode {
    /// Removed before forwarding (the gateway attaches the session's token).
    Reject,
    /// Validated and forwarded as it is when the request has no session (machine clients).
    Accept,
}

/// How a route's token is obtained (`grant:`, docs/reference.md#token-grants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    /// The session's refresh token (MRRT), for the route's audience and scope.
    RefreshToken,
    /// RFC 8693: the session's primary access token exchanged for one of the route's audience.
    TokenExchange,
    /// The gateway's own token (no user), shared by every request of the process.
    ClientCredentials,
}

impl GrantType {
    /// The `grant` label of metrics and logs, and the key's value in `routes.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::RefreshToken => "refresh_token",
            GrantType::TokenExchange => "token_exchange",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
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
    /// How the route's token is obtained (`grant:`).
    pub grant: GrantType,
    pub csrf: bool,
    /// A client's own Bearer JWT on a request without a session (`bearer:`).
    pub bearer: BearerMode,
    /// Who may use the route (`require:`), compiled at load.
    pub require: Policy,
    /// Upstream request headers carrying the user's claims (`identity_headers:`).
    pub identity_headers: Vec<IdentityHeader>,
    /// Send the signed identity assertion (`X-Tokengate-Assertion`).
    pub identity_assertion: bool,
    /// Static upstream request headers (`upstream_headers:`), e.g. an API key.
    pub upstream_headers: Vec<StaticHeader>,
    /// Roots for the upstream's certificate instead of the system's (a private CA).
    pub upstream_ca: Option<CaBundle>,
    /// Presented to the upstream when it asks for a client certificate (mTLS).
    pub upstream_client_cert: Option<ClientCert>,
    /// The name sent as SNI and verified in the upstream's certificate; `None`: the upstream's
    /// host.
    pub upstream_sni: Option<String>,
    /// HTTP/2 to the upstream (ALPN `h2` over TLS, prior knowledge over plain HTTP).
    pub upstream_h2: bool,
}

/// One `identity_headers:` entry: the upstream header and the claim it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityHeader {
    pub name: HeaderName,
    pub claim: String,
}

/// One `upstream_headers:` entry. The value may be a secret (an API key from `${VAR}`): it is
/// marked sensitive and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticHeader {
    pub name: HeaderName,
    pub value: HeaderValue,
}

impl std::fmt::Debug for StaticHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ***", self.name)
    }
}

/// A parsed `http://` or `https://` origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Upstream {
    /// `http(s)://host[:port]`, the port left out when it is the scheme's default: the `aud` of
    /// the identity assertions sent to this upstream.
    pub fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.tls, self.port) {
            (true, 443) | (false, 80) => format!("{scheme}://{host}"),
            (_, port) => format!("{scheme}://{host}:{port}"),
        }
    }

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
