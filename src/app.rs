//! The gateway's shared state: what a config produces (`Loaded`, swapped whole on reload) and
//! what lives for the whole process (`App`: the token broker, the HTTP client, metrics).

use crate::bearer::BearerCache;
use crate::config::{access, Config, StoreKind};
use crate::discovery::Discovery;
use crate::id_token::Jwks;
use crate::identity::assertion::Assertions;
use crate::identity::headers::StrippedHeaders;
use crate::identity::stripped::IdentityHeaders;
use crate::metrics::Metrics;
use crate::routing::Router;
use crate::session::codec::KeyRing;
use crate::session::cookie::budget::CookieBudget;
use crate::session::cookie::{SessionCookies, SessionReader};
use crate::session::lifetime::Lifetime;
use crate::session::opened::OpenedSessions;
use crate::session::store::RedisStore;
use crate::shutdown::InFlight;
use crate::tls::listener::{CertResolver, ServerCert};
use crate::tokens::broker::{Broker, TokenPolicy};
use crate::tokens::client::TokenClient;
use crate::tokens::grant::client_credentials::ClientCredentials;
use arc_swap::ArcSwap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Everything derived from one config file, built once at load (never on the request path).
pub struct Loaded {
    pub config: Config,
    pub router: Router,
    pub keys: KeyRing,
    /// Sessions opened from cookies, for this config's keys only (a reload starts it empty).
    pub opened: OpenedSessions,
    pub lifetime: Lifetime,
    pub policy: TokenPolicy,
    pub public_origin: String,
    /// The session cookie's name and attributes (`Secure` exactly when `public_url` is https).
    pub cookies: SessionCookies,
    /// The claims a session keeps for this config's routes (beyond `sub`, `name`, `email`,
    /// `sid`): those their `require:` and identity headers read.
    pub used_claims: BTreeSet<String>,
    /// Identity headers no client request may carry to an upstream, on any route.
    pub stripped: StrippedHeaders,
    /// The identity-assertion keys and the assertions made with them (when configured).
    pub assertions: Option<Assertions>,
    /// Headers never taken from a client (`pipeline::client_headers`).
    pub identity_headers: IdentityHeaders,
}

impl Loaded {
    pub fn new(config: Config) -> Result<Loaded, String> {
        let keys = KeyRing::new(&config.session.keys).map_err(|e| format!("session.keys: {e}"))?;
        let router = Router::new(config.routes.clone());
        let stripped = StrippedHeaders::new(
            config
                .routes
                .iter()
                .flat_map(|r| r.identity_headers.iter().map(|h| h.name.clone())),
        );
        let assertions = Assertions::new(
            config
                .server
                .signing_keys()
                .map(|k| k.key.clone())
                .collect(),
            config.server.public_origin(),
        );
        Ok(Loaded {
            used_claims: access::used_claims(&config.routes),
            stripped,
            assertions,
            lifetime: Lifetime {
                absolute: config.session.absolute_lifetime,
                idle: config.session.idle_timeout,
            },
            policy: TokenPolicy {
                leeway: config.tokens.expiry_leeway.as_secs(),
                max_cached: config.tokens.max_cached,
                latest_max_bytes: config.tokens.latest_state_max_bytes as u64,
                cookie: (config.session.store != StoreKind::Redis).then_some(CookieBudget {
                    name_len: config.session.cookie_name.len(),
                    max_chunks: config.limits.max_cookie_chunks,
                    max_bytes: config.limits.max_cookie_bytes,
                }),
            },
            public_origin: config.server.public_origin(),
            cookies: SessionCookies {
                name: config.session.cookie_name.clone(),
                secure: config.server.is_https(),
                reference: config.session.store == StoreKind::Redis,
                max_chunks: config.limits.max_cookie_chunks,
            },
            // Every route's `identity_headers` names join the fixed list.
            identity_headers: IdentityHeaders::new(
                config
                    .routes
                    .iter()
                    .flat_map(|r| r.identity_headers.iter().map(|h| h.name.as_str())),
            ),
            keys,
            opened: OpenedSessions::new(),
            router,
            config,
        })
    }
}

impl Loaded {
    /// Reads a request's session cookie with this config's keys and rules.
    pub fn session_reader(&self) -> SessionReader<'_> {
        self.cookies
            .reader(&self.keys, &self.opened, &self.lifetime)
    }
}

pub struct App {
    pub current: ArcSwap<Loaded>,
    pub broker: Broker,
    /// The gateway's own tokens (`grant: client_credentials`), shared by every request.
    pub client_credentials: ClientCredentials,
    pub metrics: Arc<Metrics>,
    pub http: reqwest::Client,
    /// The provider's signing keys, for ID tokens (login), logout tokens and client Bearers.
    pub jwks: Jwks,
    /// Client Bearer tokens already verified (`bearer: accept` routes).
    pub bearer_cache: BearerCache,
    /// Updated by the store health check (redis store only).
    pub store_healthy: std::sync::atomic::AtomicBool,
    /// Proxy requests being served; `SIGTERM` waits for them (see `shutdown`).
    pub in_flight: InFlight,
    /// The proxy listener's certificate when it has TLS (`server.tls`); swapped on reload.
    pub listener_cert: Option<Arc<CertResolver>>,
}

impl App {
    /// Builds the process state. Must run before pingora's runtimes start (the reqwest client
    /// and the rustls crypto provider are process-wide).
    pub fn new(loaded: Loaded) -> Result<Arc<App>, String> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!("tokengate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let metrics = Arc::new(Metrics::new());
        let listener_cert = listener_cert(&loaded, &metrics)?;
        let discovery = Arc::new(
            Discovery::new(loaded.config.provider.issuer.clone(), http.clone())
                .with_timeout(loaded.config.provider.timeout)
                .with_failure_counter(metrics.discovery_failures.clone()),
        );
        let redis = match (
            loaded.config.session.store,
            &loaded.config.session.redis_url,
        ) {
            (StoreKind::Redis, Some(url)) => Some(RedisStore::new(url.expose())?),
            (StoreKind::Redis, None) => {
                return Err("session.redis_url is required with store: redis".into())
            }
            (StoreKind::Cookie, _) => None,
        };
        let broker = Broker::new(
            TokenClient::new(http.clone(), discovery),
            metrics.clone(),
            redis,
        );
        Ok(Arc::new(App {
            in_flight: InFlight::new(metrics.in_flight.clone()),
            current: ArcSwap::from_pointee(loaded),
            broker,
            client_credentials: ClientCredentials::default(),
            metrics,
            jwks: Jwks::new(http.clone()),
            bearer_cache: BearerCache::new(),
            store_healthy: std::sync::atomic::AtomicBool::new(false),
            http,
            listener_cert,
        }))
    }

    /// True when sessions can be read: always with the cookie store; with Redis, when the last
    /// health ping answered.
    pub fn discovery(&self) -> &Arc<Discovery> {
        self.broker.client().discovery()
    }

    /// Whether the session store answers, for `/readyz`: `None` when the store needs no check
    /// (the cookie store lives in the browser). The Redis store answers `Some(reachable)` here,
    /// so that a replica that cannot reach Redis leaves the load balancer.
    pub async fn store_ready(&self) -> Option<bool> {
        self.broker.redis().map(|_| {
            self.store_healthy
                .load(std::sync::atomic::Ordering::Relaxed)
        })
    }
}

/// The listener's certificate, read from `server.tls` (when set) for the resolver that serves
/// it; its expiry goes to `tokengate_tls_cert_expiry_seconds`.
fn listener_cert(loaded: &Loaded, metrics: &Metrics) -> Result<Option<Arc<CertResolver>>, String> {
    let Some(files) = &loaded.config.server.tls else {
        return Ok(None);
    };
    let cert = ServerCert::load(&files.cert, &files.key)
        .map_err(|(_, message)| format!("server.tls: {message}"))?;
    metrics.enable_tls();
    metrics.tls_cert_expiry.set(cert.not_after);
    Ok(Some(Arc::new(CertResolver::new(cert))))
}

/// pingora and reqwest both use rustls with `ring`; it must be the process default before any
/// client is built. Installing twice is harmless (the second call reports it is already set).
/// JWT signatures go through `ring` too ([`crate::jwt_crypto`]).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::jwt_crypto::install();
}
