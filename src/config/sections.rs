//! The `server`, `provider`, `session` and `tokens` sections of `routes.yaml`. Each function reads
//! its mapping in document order, checks every key, applies the contract's defaults and returns
//! the typed section, or `None` when a problem (already recorded in the walker) prevents it.

use super::fields;
use super::model::{
    ClientAuth, LoginConfig, ProviderConfig, ResourceParam, Secret, ServerConfig, SessionConfig,
    StoreKind, TokensConfig,
};
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::tokens::scope::Scope;
use std::time::Duration;

const SERVER_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "admin_listen",
    "threads",
    "grace_period",
];
const PROVIDER_KEYS: &[&str] = &[
    "issuer",
    "client_id",
    "client_secret",
    "client_auth",
    "resource_param",
    "login",
    "timeout",
];
const LOGIN_KEYS: &[&str] = &["scope", "audience"];
const SESSION_KEYS: &[&str] = &[
    "cookie_name",
    "keys",
    "store",
    "redis_url",
    "absolute_lifetime",
    "idle_timeout",
];
const TOKENS_KEYS: &[&str] = &["expiry_leeway", "max_cached"];

pub(crate) const DEFAULT_LOGIN_SCOPE: &str = "openid profile email offline_access";
const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);
const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
const DEFAULT_EXPIRY_LEEWAY: Duration = Duration::from_secs(60);
const DEFAULT_MAX_CACHED: usize = 16;
const MAX_MAX_CACHED: i128 = 64;
/// A sanity bound: far above any core count this runs on, far below what would exhaust memory.
const MAX_THREADS: i128 = 1024;

pub(crate) fn server(w: &mut Walker, node: &Node) -> Option<ServerConfig> {
    let entries = w.entries("server", node)?;
    let (mut listen, mut public_url, mut admin_listen) =
        (Field::Absent, Field::Absent, Field::Absent);
    let (mut threads, mut grace_period) = (Field::Absent, Field::Absent);
    for (key, value) in entries {
        let path = join("server", key);
        match key.as_str() {
            "listen" => listen = w.parsed(&path, value, fields::socket_addr),
            "public_url" => public_url = w.parsed(&path, value, fields::public_url),
            "admin_listen" => admin_listen = w.parsed(&path, value, fields::socket_addr),
            "threads" => {
                threads = w.integer(&path, value, 1, MAX_THREADS, "an integer from 1 to 1024")
            }
            "grace_period" => grace_period = w.duration(&path, value),
            _ => w.unknown_key(&path, SERVER_KEYS),
        }
    }
    let listen = w.required("server.listen", listen);
    let public_url = w.required("server.public_url", public_url);
    let threads = threads
        .map(|t| usize::try_from(t).unwrap_or(usize::MAX))
        .optional();
    Some(ServerConfig {
        listen: listen?,
        public_url: public_url?,
        admin_listen: admin_listen.optional()?,
        threads: threads?,
        grace_period: grace_period.or(DEFAULT_GRACE_PERIOD)?,
    })
}

pub(crate) fn provider(w: &mut Walker, node: &Node) -> Option<ProviderConfig> {
    let entries = w.entries("provider", node)?;
    let (mut issuer, mut client_id, mut client_secret) =
        (Field::Absent, Field::Absent, Field::Absent);
    let (mut client_auth, mut resource_param) = (Field::Absent, Field::Absent);
    let (mut login, mut timeout) = (None, Field::Absent);
    for (key, value) in entries {
        let path = join("provider", key);
        match key.as_str() {
            "issuer" => issuer = w.parsed(&path, value, fields::issuer),
            "client_id" => client_id = w.non_empty(&path, value),
            // Empty means a public client. The value is never part of a message.
            "client_secret" => client_secret = w.text(&path, value).map(Secret),
            "client_auth" => {
                client_auth = w.choice(
                    &path,
                    value,
                    &[
                        ("client_secret_post", ClientAuth::ClientSecretPost),
                        ("client_secret_basic", ClientAuth::ClientSecretBasic),
                    ],
                )
            }
            "resource_param" => {
                resource_param = w.choice(
                    &path,
                    value,
                    &[
                        ("audience", ResourceParam::Audience),
                        ("resource", ResourceParam::Resource),
                    ],
                )
            }
            "login" => login = Some(login_section(w, value)),
            "timeout" => timeout = w.positive_duration(&path, value),
            _ => w.unknown_key(&path, PROVIDER_KEYS),
        }
    }
    let issuer = w.required("provider.issuer", issuer);
    let client_id = w.required("provider.client_id", client_id);
    let login = match login {
        Some(parsed) => parsed,
        None => login_section(w, &Node::Null),
    };
    Some(ProviderConfig {
        issuer: issuer?,
        client_id: client_id?,
        client_secret: client_secret.or(Secret(String::new()))?,
        client_auth: client_auth.or(ClientAuth::ClientSecretPost)?,
        resource_param: resource_param.or(ResourceParam::Audience)?,
        login: login?,
        timeout: timeout.or(DEFAULT_PROVIDER_TIMEOUT)?,
    })
}

fn login_section(w: &mut Walker, node: &Node) -> Option<LoginConfig> {
    let entries = w.entries("provider.login", node)?;
    let (mut scope, mut audience) = (Field::Absent, Field::Absent);
    for (key, value) in entries {
        let path = join("provider.login", key);
        match key.as_str() {
            // Without `openid` the provider answers with no ID token and no login can complete.
            "scope" => {
                scope = w.parsed(&path, value, |s| {
                    let scope = Scope::parse(s);
                    if scope.contains("openid") {
                        Ok(scope)
                    } else {
                        Err(format!("must include \"openid\" (got {s:?})"))
                    }
                })
            }
            "audience" => audience = w.non_empty(&path, value),
            _ => w.unknown_key(&path, LOGIN_KEYS),
        }
    }
    Some(LoginConfig {
        scope: scope.or(Scope::parse(DEFAULT_LOGIN_SCOPE))?,
        audience: audience.optional()?,
    })
}

/// `cookie_name` is left empty when the file does not set it: its default depends on
/// `server.public_url`, which `load` applies once every section is read.
pub(crate) fn session(w: &mut Walker, node: &Node) -> Option<SessionConfig> {
    let entries = w.entries("session", node)?;
    let (mut cookie_name, mut keys, mut store) = (Field::Absent, Field::Absent, Field::Absent);
    let (mut redis_url, mut absolute_lifetime) = (Field::Absent, Field::Absent);
    let mut idle_timeout = Field::Absent;
    for (key, value) in entries {
        let path = join("session", key);
        match key.as_str() {
            "cookie_name" => {
                cookie_name = w.parsed(&path, value, |s| {
                    fields::cookie_name(s).map(|()| s.to_owned())
                })
            }
            "keys" => keys = session_keys(w, &path, value),
            "store" => {
                store = w.choice(
                    &path,
                    value,
                    &[("cookie", StoreKind::Cookie), ("redis", StoreKind::Redis)],
                )
            }
            // A Redis URL may hold a password: it is never part of a message.
            "redis_url" => {
                redis_url = w.parsed(&path, value, |s| {
                    if s.starts_with("redis://") || s.starts_with("rediss://") {
                        Ok(Secret(s.to_owned()))
                    } else {
                        Err("must start with redis:// or rediss://".to_owned())
                    }
                })
            }
            "absolute_lifetime" => absolute_lifetime = w.positive_duration(&path, value),
            "idle_timeout" => idle_timeout = w.positive_duration(&path, value),
            _ => w.unknown_key(&path, SESSION_KEYS),
        }
    }
    let keys = w.required("session.keys", keys);
    let store = store.or(StoreKind::Cookie);
    if store == Some(StoreKind::Redis) && matches!(redis_url, Field::Absent) {
        w.error("session.redis_url", "required when session.store is redis");
    }
    Some(SessionConfig {
        cookie_name: cookie_name.or(String::new())?,
        keys: keys?,
        store: store?,
        redis_url: redis_url.optional()?,
        absolute_lifetime: absolute_lifetime.or(DEFAULT_ABSOLUTE_LIFETIME)?,
        idle_timeout: idle_timeout.optional()?,
    })
}

/// `session.keys`: a non-empty list; every bad entry is reported under its index.
fn session_keys(w: &mut Walker, path: &str, node: &Node) -> Field<Vec<[u8; 32]>> {
    let items = match node {
        Node::Null => return Field::Absent,
        Node::Seq(items) => items,
        other => {
            w.error(
                path,
                format!("expected a list of keys, got {}", other.kind()),
            );
            return Field::Bad;
        }
    };
    if items.is_empty() {
        w.error(
            path,
            "at least one key is required (`tokengate keygen` prints one)",
        );
        return Field::Bad;
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut bad = false;
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        match w.parsed(&item_path, item, fields::session_key) {
            Field::Value(key) => keys.push(key),
            Field::Absent => {
                w.error(&item_path, "must be 32 bytes of base64url (got null)");
                bad = true;
            }
            Field::Bad => bad = true,
        }
    }
    if bad {
        Field::Bad
    } else {
        Field::Value(keys)
    }
}

pub(crate) fn tokens(w: &mut Walker, node: &Node) -> Option<TokensConfig> {
    let entries = w.entries("tokens", node)?;
    let (mut expiry_leeway, mut max_cached) = (Field::Absent, Field::Absent);
    for (key, value) in entries {
        let path = join("tokens", key);
        match key.as_str() {
            "expiry_leeway" => expiry_leeway = w.duration(&path, value),
            "max_cached" => {
                max_cached = w
                    .integer(&path, value, 0, MAX_MAX_CACHED, "an integer from 0 to 64")
                    .map(|n| usize::try_from(n).unwrap_or(DEFAULT_MAX_CACHED))
            }
            _ => w.unknown_key(&path, TOKENS_KEYS),
        }
    }
    Some(TokensConfig {
        expiry_leeway: expiry_leeway.or(DEFAULT_EXPIRY_LEEWAY)?,
        max_cached: max_cached.or(DEFAULT_MAX_CACHED)?,
    })
}
