//! Assembling the pingora server from a validated config: the proxy service, the admin listener,
//! and the background services (provider discovery, config reload). `Server::run` blocks its
//! thread and owns the runtimes, so everything shared (the `App`, the signal handlers) is built
//! before it starts; [`Gateway::run`] then hands the server to `shutdown::run`, which decides
//! when the process may exit.

use crate::admin::Admin;
use crate::app::{App, Loaded};
use crate::config::Config;
use crate::proxy::TokenGate;
use crate::reload::ConfigWatcher;
use crate::shutdown::{self, Signals};
use async_trait::async_trait;
use pingora::server::configuration::ServerConf;
use pingora::server::{Server, ShutdownWatch};
use pingora::services::background::{background_service, BackgroundService};
use pingora::services::listening::Service;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::Signal;

/// Handshake runtimes for a TLS listener (`tls::listener::settings`): one runtime of one thread
/// does every TLS handshake, so that a burst of new connections queues there instead of in
/// front of the requests of established connections on the worker threads. `None` would run
/// them on the workers; BENCHMARKS.md ("HTTP/2 over TLS") compares both.
const TLS_OFFLOAD: Option<usize> = Some(1);

/// A gateway ready to run.
pub struct Gateway {
    server: Server,
    app: Arc<App>,
    terminate: Signal,
    interrupt: Signal,
    grace: Duration,
}

impl Gateway {
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves until `SIGTERM` (drained, see `shutdown`) or `SIGINT`; `Ok` means exit 0.
    pub fn run(self) -> Result<(), String> {
        let in_flight = self.app.in_flight.clone();
        shutdown::run(
            self.server,
            self.terminate,
            self.interrupt,
            in_flight,
            self.grace,
        )
    }
}

/// Builds the gateway for `config`, read from `config_path` (which `SIGHUP` and file changes
/// reload).
pub fn build(config: Config, config_path: &Path) -> Result<Gateway, String> {
    let signals =
        Signals::install().map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    // pingora binds inside a service task and, when that fails, panics there and keeps the
    // process running without the listener; fail here instead, with the address.
    check_bindable(config.server.listen)?;
    if let Some(admin) = config.server.admin_listen {
        check_bindable(admin)?;
    }
    let threads = config.server.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let grace = config.server.grace_period;
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(shutdown::pingora_grace_seconds(grace)),
        graceful_shutdown_timeout_seconds: Some(1),
        // One upgrade socket and pid file per process: the defaults are fixed paths that two
        // instances on one host would share.
        upgrade_sock: format!("/tmp/tokengate-upgrade-{}.sock", std::process::id()),
        pid_file: format!("/tmp/tokengate-{}.pid", std::process::id()),
        ..ServerConf::default()
    };
    let listen = config.server.listen.to_string();
    let admin_listen = config.server.admin_listen.map(|a| a.to_string());
    let loaded = Loaded::new(config)?;
    let app = App::new(loaded)?;

    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let mut proxy =
        crate::proxy::limits::proxy_service(&server.configuration, TokenGate { app: app.clone() });
    match &app.listener_cert {
        Some(resolver) => {
            let settings = crate::tls::listener::settings(resolver.clone(), TLS_OFFLOAD)?;
            proxy.add_tls_with_settings(&listen, None, settings);
        }
        None => proxy.add_tcp(&listen),
    }
    server.add_service(proxy);

    if let Some(addr) = admin_listen {
        let mut admin = Service::new("admin".to_string(), Admin { app: app.clone() });
        admin.add_tcp(&addr);
        server.add_service(admin);
    }
    server.add_service(background_service(
        "session store health",
        crate::store_health::StoreHealth { app: app.clone() },
    ));
    server.add_service(background_service(
        "provider discovery",
        DiscoveryWarmUp { app: app.clone() },
    ));
    server.add_service(background_service(
        "config reload",
        ConfigWatcher::new(app.clone(), config_path.to_owned(), signals.hangup),
    ));
    Ok(Gateway {
        server,
        app,
        terminate: signals.terminate,
        interrupt: signals.interrupt,
        grace,
    })
}

fn check_bindable(addr: SocketAddr) -> Result<(), String> {
    std::net::TcpListener::bind(addr)
        .map(drop)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

struct DiscoveryWarmUp {
    app: Arc<App>,
}

#[async_trait]
impl BackgroundService for DiscoveryWarmUp {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        tokio::select! {
            _ = self.app.discovery().warm_up() => {}
            _ = shutdown.changed() => {}
        }
    }
}
