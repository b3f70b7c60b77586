//! Reading `routes.yaml`: the entry points (`check_file`, `load_file`, `parse_str`) and the table
//! of the top-level sections. The file is parsed into a generic tree first (`yaml`), then walked
//! section by section (each section's table is in its own file) so that *every* problem is
//! reported with its field path in document order, instead of serde stopping at the first one.

use super::model::{AuthMode, BearerMode, Config, StoreKind};
use super::problems::{ConfigError, ConfigErrors, ConfigWarning};
use super::section::section;
use super::walker::{Field, Walker};
use super::yaml::{self, Node};
use super::{fields, limits, provider, routes, server, session, tokens};
use crate::session::cookie::budget::{CookieBudget, NOMINAL_TOKEN_SET};
use std::path::Path;

/// A valid config and what `check` warns about in it.
#[derive(Debug)]
pub struct Checked {
    pub config: Config,
    /// In document order; empty for a config without surprises.
    pub warnings: Vec<ConfigWarning>,
}

impl Checked {
    /// One `tracing` warning per config warning: how `run` reports them (they never stop it).
    pub fn log_warnings(&self) {
        for w in &self.warnings {
            tracing::warn!(field = %w.path, "config {}: {}", w.path, w.message);
        }
    }
}

/// Reads and validates the file at `path` with the process environment.
pub fn check_file(path: &Path) -> Result<Checked, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
        }])
    })?;
    check_str(&text, &|name| std::env::var(name).ok())
}

/// [`check_file`] without the warnings.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    check_file(path).map(|checked| checked.config)
}

/// [`check_str`] without the warnings.
pub fn parse_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
    check_str(text, env).map(|checked| checked.config)
}

/// Validates a config text; `env` looks up `${VAR}` values (injectable for tests).
pub fn check_str(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Checked, ConfigErrors> {
    let root = yaml::parse(text).map_err(|e| ConfigErrors(vec![e]))?;
    let mut w = Walker::new(env);
    let config = document(&mut w, &root);
    match config {
        Field::Value(config) if w.errors.is_empty() => Ok(Checked {
            config,
            warnings: w.warnings,
        }),
        _ if w.errors.is_empty() => {
            // Unreachable by construction (a section is `Bad` only after recording an error),
            // but a silent failure here would be worse than a vague message.
            Err(ConfigErrors(vec![ConfigError {
                path: String::new(),
                message: "invalid configuration".to_owned(),
            }]))
        }
        _ => Err(ConfigErrors(w.errors)),
    }
}

/// The top-level mapping, then the defaults that need more than one section.
fn document(w: &mut Walker, root: &Node) -> Field<Config> {
    if !matches!(root, Node::Map(_) | Node::Null) {
        w.error(
            "",
            format!(
                "expected a mapping with the keys server, provider, session, tokens, limits, \
                 routes, got {}",
                root.kind()
            ),
        );
        return Field::Bad;
    }
    let config = section!(w, "", root, Config {
        server: required => server::server,
        provider: required => provider::provider,
        session: required => session::session,
        tokens: nested => tokens::tokens,
        limits: nested => limits::limits,
        routes: nested => routes::routes,
    });
    let Field::Value(mut config) = config else {
        return config;
    };
    let cookie_name = default_cookie_name(w, &mut config);
    let bearer = bearer_audience(w, &config);
    let fits = cookie_capacity(w, &config);
    if cookie_name & assertion_key(w, &config) & bearer & fits {
        Field::Value(config)
    } else {
        Field::Bad
    }
}

/// A route that sends the identity assertion needs a key to sign it with; false (and an error
/// on each such route) when there is none.
fn assertion_key(w: &mut Walker, config: &Config) -> bool {
    if config.server.signing_keys().next().is_some() {
        return true;
    }
    let mut ok = true;
    for (i, route) in config.routes.iter().enumerate() {
        if route.identity_assertion {
            w.error(
                &format!("routes[{i}].identity_assertion"),
                "needs server.assertion_key: a PEM P-256 private key file that signs the \
                 assertion (openssl ecparam -genkey -name prime256v1 -noout -out key.pem)",
            );
            ok = false;
        }
    }
    ok
}

/// A route that accepts a client's Bearer checks its `aud` against the route's audience or the
/// login audience; false (and an error on each such route) when neither is set.
fn bearer_audience(w: &mut Walker, config: &Config) -> bool {
    if config.provider.login.audience.is_some() {
        return true;
    }
    let mut ok = true;
    for (i, route) in config.routes.iter().enumerate() {
        let accepts = route.bearer == BearerMode::Accept && route.auth != AuthMode::None;
        if accepts && route.audience.is_none() {
            w.error(
                &format!("routes[{i}].bearer"),
                "accept needs an audience to check the token's aud against: set the route's \
                 audience or provider.login.audience",
            );
            ok = false;
        }
    }
    ok
}

/// With the cookie store, `tokens.max_cached` token sets of a nominal size must fit the cookie
/// reading accepts (`limits.max_cookie_chunks`, `limits.max_cookie_bytes`); false (and an error
/// naming the keys) when they cannot. Larger tokens are still dropped to fit at run time.
fn cookie_capacity(w: &mut Walker, config: &Config) -> bool {
    if config.session.store == StoreKind::Redis {
        return true;
    }
    let budget = CookieBudget {
        name_len: config.session.cookie_name.len(),
        max_chunks: config.limits.max_cookie_chunks,
        max_bytes: config.limits.max_cookie_bytes,
    };
    let max_cached = config.tokens.max_cached;
    let capacity = budget.nominal_capacity().unwrap_or(0);
    if max_cached <= capacity {
        return true;
    }
    w.error(
        "tokens.max_cached",
        format!(
            "{max_cached} token sets of about {NOMINAL_TOKEN_SET} bytes do not fit in a session \
             cookie of limits.max_cookie_chunks {} and limits.max_cookie_bytes {}: set \
             tokens.max_cached to at most {capacity}, raise limits.max_cookie_chunks or \
             limits.max_cookie_bytes, or use session.store: redis",
            budget.max_chunks, budget.max_bytes
        ),
    );
    false
}

/// Fills in `session.cookie_name` when the file leaves it out; false (and an error) when the
/// chosen name needs https. The `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and
/// no `Domain`, so a subdomain cannot plant a session cookie; it is only possible over https.
fn default_cookie_name(w: &mut Walker, config: &mut Config) -> bool {
    let https = config.server.is_https();
    let name = &mut config.session.cookie_name;
    if name.is_empty() {
        *name = if https {
            "__Host-tokengate"
        } else {
            "tokengate"
        }
        .to_owned();
    } else if !https && fields::needs_secure_cookie(name) {
        w.error(
            "session.cookie_name",
            format!(
                "{name:?} needs an https server.public_url (browsers accept __Host- and \
                 __Secure- cookies only with Secure, which is set only for https)"
            ),
        );
        return false;
    }
    true
}
