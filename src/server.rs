//! Assembling the pingora server: the proxy service, the admin listener and the background
//! discovery, from a validated config. `Server::run` blocks its thread and owns the runtimes, so
//! everything shared (the `App`) is built before it starts.

use crate::admin::Admin;
use crate::app::{App, Loaded};
use crate::config::Config;
use crate::proxy::TokenGate;
use async_trait::async_trait;
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server, ShutdownWatch};
use pingora::services::background::{background_service, BackgroundService};
use pingora::services::listening::Service;
use std::sync::Arc;

/// Builds the server for `config`; `run` blocks until shutdown.
pub fn build(config: Config) -> Result<(Server, Arc<App>), String> {
    let threads = config.server.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(config.server.grace_period.as_secs()),
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
    proxy.add_tcp(&listen);
    server.add_service(proxy);

    if let Some(addr) = admin_listen {
        let mut admin = Service::new("admin".to_string(), Admin { app: app.clone() });
        admin.add_tcp(&addr);
        server.add_service(admin);
    }
    server.add_service(background_service(
        "provider discovery",
        DiscoveryWarmUp { app: app.clone() },
    ));
    Ok((server, app))
}

/// Runs until a shutdown signal.
pub fn run(server: Server) {
    server.run(RunArgs::default());
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
