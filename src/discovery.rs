//! OpenID Provider discovery: `{issuer}/.well-known/openid-configuration`, fetched at start-up in
//! the background and cached. A gateway must come up even when its provider is briefly down (it
//! reports not-ready on `/readyz` meanwhile), and a failed fetch is tried again on the next use
//! rather than wedging the process on a stale error. Every fetch is bounded as a whole (a
//! provider that accepts the connection and stalls must not hold every login and exchange for
//! ever), and a failure is shared with the requests that waited for it, so a burst during an
//! outage costs one bounded wait, not one per request in turn.

use serde::Deserialize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// The parts of the provider's metadata the gateway uses.
#[derive(Clone, Debug, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
}

/// The bound of one discovery (and of waiting for one in progress) unless set otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("provider discovery failed: {0}")]
    Fetch(String),
    #[error("provider metadata names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch { expected: String, found: String },
}

/// The cached metadata of one issuer.
pub struct Discovery {
    issuer: Url,
    http: reqwest::Client,
    cached: RwLock<Option<Arc<ProviderMetadata>>>,
    /// Serialises fetches so a burst of requests during an outage makes one call, not hundreds.
    fetching: tokio::sync::Mutex<()>,
    timeout: Duration,
    last_failure: Mutex<Option<(Instant, DiscoveryError)>>,
    failures: Option<prometheus::IntCounter>,
}

impl Discovery {
    pub fn new(issuer: Url, http: reqwest::Client) -> Self {
        Discovery {
            issuer,
            http,
            cached: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            timeout: DEFAULT_TIMEOUT,
            last_failure: Mutex::new(None),
            failures: None,
        }
    }

    /// Bounds each fetch, and each wait for a fetch in progress, by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Counts each failed fetch in `counter`.
    pub fn with_failure_counter(mut self, counter: prometheus::IntCounter) -> Self {
        self.failures = Some(counter);
        self
    }

    /// The metadata when it has been fetched; `None` before (used by `/readyz`).
    pub fn cached(&self) -> Option<Arc<ProviderMetadata>> {
        self.cached.read().ok().and_then(|c| c.clone())
    }

    pub fn is_ready(&self) -> bool {
        self.cached().is_some()
    }

    /// The metadata, fetching it when it is not cached yet.
    pub async fn get(&self) -> Result<Arc<ProviderMetadata>, DiscoveryError> {
        if let Some(m) = self.cached() {
            return Ok(m);
        }
        let waiting_since = Instant::now();
        let _guard = tokio::time::timeout(self.timeout, self.fetching.lock())
            .await
            .map_err(|_| self.failed(self.stalled("waiting for a discovery in progress")))?;
        if let Some(m) = self.cached() {
            return Ok(m);
        }
        if let Some(e) = self.failed_since(waiting_since) {
            return Err(e);
        }
        let fetched = match tokio::time::timeout(self.timeout, self.fetch()).await {
            Ok(Ok(m)) => Arc::new(m),
            Ok(Err(e)) => return Err(self.failed(e)),
            Err(_) => return Err(self.failed(self.stalled("no complete answer"))),
        };
        if let Ok(mut c) = self.cached.write() {
            *c = Some(fetched.clone());
        }
        Ok(fetched)
    }

    fn stalled(&self, what: &str) -> DiscoveryError {
        DiscoveryError::Fetch(format!(
            "GET {}: {what} within {:?}",
            self.well_known_url(),
            self.timeout
        ))
    }

    /// Records and counts a failed fetch, for the requests that waited for it.
    fn failed(&self, e: DiscoveryError) -> DiscoveryError {
        if let Some(c) = &self.failures {
            c.inc();
        }
        if let Ok(mut f) = self.last_failure.lock() {
            *f = Some((Instant::now(), e.clone()));
        }
        e
    }

    /// A failure recorded after `since` (while this caller waited for the fetch that failed).
    fn failed_since(&self, since: Instant) -> Option<DiscoveryError> {
        let f = self.last_failure.lock().ok()?;
        f.as_ref()
            .filter(|(at, _)| *at >= since)
            .map(|(_, e)| e.clone())
    }

    /// Keeps trying until discovery succeeds, with a capped backoff. Run once at start-up.
    pub async fn warm_up(&self) {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.get().await {
                Ok(_) => {
                    tracing::info!(issuer = %self.issuer, "provider discovery succeeded");
                    return;
                }
                Err(e) => {
                    tracing::warn!(issuer = %self.issuer, error = %e, "provider discovery failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    fn well_known_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.as_str().trim_end_matches('/')
        )
    }

    async fn fetch(&self) -> Result<ProviderMetadata, DiscoveryError> {
        let url = self.well_known_url();
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| DiscoveryError::Fetch(format!("GET {url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(DiscoveryError::Fetch(format!(
                "GET {url}: HTTP {}",
                resp.status()
            )));
        }
        let body = crate::http::outbound::read_bounded(resp, 256 * 1024)
            .await
            .map_err(|e| DiscoveryError::Fetch(format!("GET {url}: {e}")))?;
        let meta: ProviderMetadata = serde_json::from_slice(&body)
            .map_err(|e| DiscoveryError::Fetch(format!("GET {url}: invalid metadata: {e}")))?;
        if !same_issuer(&meta.issuer, self.issuer.as_str()) {
            return Err(DiscoveryError::IssuerMismatch {
                expected: self.issuer.to_string(),
                found: meta.issuer,
            });
        }
        Ok(meta)
    }
}

/// Issuers compare as strings (OIDC Discovery §4.3), but `url::Url` adds a trailing `/` to a bare
/// origin, so `https://a.example` in the config and `https://a.example` in the metadata must still
/// match; a trailing slash is the only difference forgiven.
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}
