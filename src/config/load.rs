//! Reading `routes.yaml`: the entry points (`load_file`, `parse_str`), the error types, and the
//! top-level walk that ties the sections together. The file is parsed into a generic tree first
//! (`yaml`), then walked by hand (`sections`, `routes`) so that *every* problem is reported with
//! its field path in document order, instead of serde stopping at the first one.

use super::fields;
use super::model::Config;
use super::walker::Walker;
use super::yaml::{self, Node};
use super::{limits, routes, sections};
use std::path::Path;

const TOP_KEYS: &[&str] = &[
    "server", "provider", "session", "tokens", "limits", "routes",
];

/// One problem in the config file, with the path of the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `routes[2].upstream`, `session.keys[0]`, or `` for the document itself.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads and validates the file at `path` with the process environment.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
        }])
    })?;
    parse_str(&text, &|name| std::env::var(name).ok())
}

/// Validates a config text; `env` looks up `${VAR}` values (injectable for tests).
pub fn parse_str(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
    let root = yaml::parse(text).map_err(|e| ConfigErrors(vec![e]))?;
    let mut w = Walker::new(env);
    let config = walk(&mut w, &root);
    match config {
        Some(config) if w.errors.is_empty() => Ok(config),
        _ if w.errors.is_empty() => {
            // Unreachable by construction (a section is `None` only after recording an error),
            // but a silent failure here would be worse than a vague message.
            Err(ConfigErrors(vec![ConfigError {
                path: String::new(),
                message: "invalid configuration".to_owned(),
            }]))
        }
        _ => Err(ConfigErrors(w.errors)),
    }
}

/// The top-level mapping: each section in document order, then the defaults and checks that
/// need more than one section.
fn walk(w: &mut Walker, root: &Node) -> Option<Config> {
    let entries = match root {
        Node::Map(entries) => entries.as_slice(),
        Node::Null => &[],
        other => {
            w.error(
                "",
                format!(
                    "expected a mapping with the keys {}, got {}",
                    TOP_KEYS.join(", "),
                    other.kind()
                ),
            );
            return None;
        }
    };
    let (mut server, mut provider, mut session, mut tokens, mut routes) =
        (None, None, None, None, None);
    let mut limits = None;
    for (key, value) in entries {
        match key.as_str() {
            "server" => server = Some(sections::server(w, value)),
            "provider" => provider = Some(sections::provider(w, value)),
            "session" => session = Some(sections::session(w, value)),
            "tokens" => tokens = Some(sections::tokens(w, value)),
            "limits" => limits = Some(limits::limits(w, value)),
            "routes" => routes = Some(routes::routes(w, value)),
            _ => w.unknown_key(key, TOP_KEYS),
        }
    }
    let server = required_section(w, "server", server);
    let provider = required_section(w, "provider", provider);
    let session = required_section(w, "session", session);
    let routes = match routes {
        Some(routes) => routes,
        None => routes::routes(w, &Node::Null),
    };
    let tokens = match tokens {
        Some(tokens) => tokens,
        None => sections::tokens(w, &Node::Null),
    };
    let limits = match limits {
        Some(limits) => limits,
        None => limits::limits(w, &Node::Null),
    };
    let (server, mut session) = (server?, session?);
    if session.cookie_name.is_empty() {
        session.cookie_name = default_cookie_name(server.is_https()).to_owned();
    } else if !server.is_https() && fields::needs_secure_cookie(&session.cookie_name) {
        w.error(
            "session.cookie_name",
            format!(
                "{:?} needs an https server.public_url (browsers accept __Host- and __Secure- \
                 cookies only with Secure, which is set only for https)",
                session.cookie_name
            ),
        );
    }
    Some(Config {
        server,
        provider: provider?,
        session,
        tokens: tokens?,
        limits: limits?,
        routes: routes?,
    })
}

/// A section that was read (`Some`, whatever its outcome), or `required` when the key is absent.
fn required_section<T>(w: &mut Walker, name: &str, section: Option<Option<T>>) -> Option<T> {
    if section.is_none() {
        w.error(name, "required");
    }
    section.flatten()
}

/// The `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and no `Domain`, so a
/// subdomain cannot plant a session cookie; it is only possible over https.
fn default_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-tokengate"
    } else {
        "tokengate"
    }
}
