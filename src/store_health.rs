//! Redis health for `/readyz`: a background ping every second while the redis store is in use,
//! so readiness answers from memory instead of touching Redis on every probe.

use crate::app::App;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub struct StoreHealth {
    pub app: Arc<App>,
}

#[async_trait]
impl BackgroundService for StoreHealth {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let Some(store) = self.app.broker.redis() else {
            return;
        };
        loop {
            let healthy = store.ping().await;
            let was = self.app.store_healthy.swap(healthy, Ordering::Relaxed);
            if was != healthy {
                if healthy {
                    tracing::info!("session store reachable");
                } else {
                    tracing::warn!("session store unreachable");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
