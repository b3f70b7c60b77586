//! Fixtures of the operations tests: config edits, polling, `/metrics` reading, and two
//! stand-ins the shared harness does not have — an issuer whose discovery fails until told
//! otherwise, and an upstream that answers slowly.

use crate::support::{client, Gateway};
use axum::extract::State;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Adds `server:` lines (e.g. `admin_listen: ...`) to a harness config.
pub fn with_server(yaml: &str, lines: &[String]) -> String {
    let extra: String = lines.iter().map(|l| format!("  {l}\n")).collect();
    yaml.replacen("  threads: 1\n", &format!("  threads: 1\n{extra}"), 1)
}

pub fn admin_line(port: u16) -> String {
    format!("admin_listen: \"127.0.0.1:{port}\"")
}

pub async fn get(url: &str) -> (u16, String) {
    match client().get(url).send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// Polls `check` every 50 ms until it holds or `limit` passes; returns whether it held.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the sample `series` (`name{labels}`, exactly as exposed) on `/metrics`.
pub async fn metric(admin: u16, series: &str) -> Option<f64> {
    let (_, text) = get(&format!("http://127.0.0.1:{admin}/metrics")).await;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

pub async fn metric_becomes(admin: u16, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = metric(admin, series).await;
        if seen == Some(value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series}: expected {value}, last seen {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Which echo upstream answered `path`.
pub async fn upstream_of(gw: &Gateway, path: &str) -> String {
    match client().get(gw.url(path)).send().await {
        Ok(r) => r
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["upstream"].as_str().map(str::to_owned))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// An issuer whose discovery document answers 503 until `up` is set; while `stall` is set it
/// accepts the request and never answers.
pub struct FlakyDiscovery {
    pub addr: std::net::SocketAddr,
    pub up: Arc<AtomicBool>,
    pub stall: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl FlakyDiscovery {
    pub async fn start() -> FlakyDiscovery {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(false));
        let stall = Arc::new(AtomicBool::new(false));
        type St = (Arc<AtomicBool>, Arc<AtomicBool>, String);
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(|State((up, stall, issuer)): State<St>| async move {
                    if stall.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    if !up.load(Ordering::SeqCst) {
                        return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                    }
                    Ok(axum::Json(serde_json::json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/authorize"),
                        "token_endpoint": format!("{issuer}/oauth/token"),
                        "jwks_uri": format!("{issuer}/jwks"),
                    })))
                }),
            )
            .with_state((up.clone(), stall.clone(), format!("http://{addr}")));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FlakyDiscovery {
            addr,
            up,
            stall,
            task,
        }
    }
}

impl Drop for FlakyDiscovery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An upstream that takes `delay` to answer and counts the requests it has started.
pub struct SlowUpstream {
    addr: std::net::SocketAddr,
    pub started: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SlowUpstream {
    pub async fn start(delay: Duration) -> SlowUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new()
            .fallback(move |State(started): State<Arc<AtomicUsize>>| async move {
                started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                "slow done"
            })
            .with_state(started.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SlowUpstream {
            addr,
            started,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SlowUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
