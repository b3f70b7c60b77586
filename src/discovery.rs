//! OpenID Provider discovery: `{issuer}/.well-known/openid-configuration`, fetched at start-up in
//! the background and cached. A gateway must come up even when its provider is briefly down (it
//! reports not-ready on `/readyz` meanwhile), and a failed fetch is tried again on the next use
//! rather than wedging the process on a stale error.

use serde::Deserialize;
use std::sync::{Arc, RwLock};
use std::time::Duration;
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

#[derive(Debug, thiserror::Error)]
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
}

impl Discovery {
    pub fn new(issuer: Url, http: reqwest::Client) -> Self {
        Discovery {
            issuer,
            http,
            cached: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }
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
        let _guard = self.fetching.lock().await;
        if let Some(m) = self.cached() {
            return Ok(m);
        }
        let fetched = Arc::new(self.fetch().await?);
        if let Ok(mut c) = self.cached.write() {
            *c = Some(fetched.clone());
        }
        Ok(fetched)
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
