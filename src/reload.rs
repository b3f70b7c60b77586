//! Reloading `routes.yaml` while serving (`SIGHUP`, or the file changing on disk — see
//! [`watch`]). A reload is all or nothing: the file is loaded and validated like at start-up,
//! everything derived from it is built into a new [`Loaded`], and only then is it swapped into
//! `App::current` in one atomic store. A request loads its `Arc<Loaded>` once at its start and
//! keeps it, so requests in flight finish on the config they started with.
//!
//! Some settings are bound when the process starts (listening sockets, worker threads, the
//! provider whose discovery the token client holds, the session store); a file that changes one
//! of them is rejected as a whole, naming them, rather than half-applied. Every attempt ends in
//! a log line and `tokengate_config_reloads_total{result}`; a rejected file leaves the running
//! config untouched.

pub mod certificate;
pub mod watch;

use crate::app::{App, Loaded};
use crate::config::{self, Config, ConfigErrors};
use crate::metrics::{RELOAD_REJECTED, RELOAD_SUCCESS};
use std::path::Path;
use std::sync::Arc;

pub use watch::ConfigWatcher;

/// Why a reload was refused; the running config stays.
#[derive(Debug)]
pub enum ReloadError {
    /// The file does not load or validate (every problem, with its field path).
    Invalid(ConfigErrors),
    /// Fields that only a restart can apply.
    RestartRequired(Vec<&'static str>),
    /// The config is valid but what it describes could not be built.
    Build(String),
}

impl std::fmt::Display for ReloadError {
    /// One line, because it goes into one log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::Invalid(errors) => {
                f.write_str("invalid configuration: ")?;
                for (i, e) in errors.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            ReloadError::RestartRequired(fields) => {
                write!(f, "{} changed; restart to apply", fields.join(", "))
            }
            ReloadError::Build(message) => f.write_str(message),
        }
    }
}

/// The settings that differ between `old` and `new` and cannot change without a restart.
pub fn restart_required(old: &Config, new: &Config) -> Vec<&'static str> {
    let (a, b) = (&old.server, &new.server);
    [
        ("server.listen", a.listen != b.listen),
        ("server.admin_listen", a.admin_listen != b.admin_listen),
        ("server.threads", a.threads != b.threads),
        ("server.grace_period", a.grace_period != b.grace_period),
        // The listener's kind (TCP or TLS) is bound at start; its certificate is not.
        ("server.tls", a.tls.is_some() != b.tls.is_some()),
        (
            "provider.issuer",
            old.provider.issuer != new.provider.issuer,
        ),
        ("session.store", old.session.store != new.session.store),
        (
            "session.redis_url",
            old.session.redis_url != new.session.redis_url,
        ),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect()
}

/// Loads `path` and, when it is valid and needs no restart, makes it the running config.
/// Returns the number of routes now served.
pub fn reload(app: &App, path: &Path) -> Result<usize, ReloadError> {
    let config = config::load_file(path).map_err(ReloadError::Invalid)?;
    let changed = restart_required(&app.current.load().config, &config);
    if !changed.is_empty() {
        return Err(ReloadError::RestartRequired(changed));
    }
    let loaded = Loaded::new(config).map_err(ReloadError::Build)?;
    let routes = loaded.config.routes.len();
    let old = app.current.swap(Arc::new(loaded));
    // Requests still running (a WebSocket, a long download) keep the old config alive, and with
    // it its cache of opened sessions, which nothing would use or expire any more: empty it now
    // so that memory stays within one cache's bound whatever the number of reloads.
    old.opened.clear();
    Ok(routes)
}

/// [`reload`] with its log line and metric: what a `SIGHUP` or a file change does. `trigger`
/// says which, for the log.
pub fn reload_and_report(app: &App, path: &Path, trigger: &'static str) -> bool {
    match reload(app, path) {
        Ok(routes) => {
            app.metrics
                .reloads
                .with_label_values(&[RELOAD_SUCCESS])
                .inc();
            tracing::info!(config = %path.display(), trigger, routes, "config reloaded");
            true
        }
        Err(e) => {
            app.metrics
                .reloads
                .with_label_values(&[RELOAD_REJECTED])
                .inc();
            tracing::error!(
                config = %path.display(),
                trigger,
                "reload rejected: {e}; the running config stays"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests;
