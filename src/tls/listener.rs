//! The proxy listener's certificate (`server.tls`). pingora builds the listener's rustls
//! config once, at start; what it asks for each handshake is a certificate from a resolver.
//! [`CertResolver`] answers from an `ArcSwap`, so a renewed certificate replaces the old one
//! for the next handshake without touching a listener or a connection: established
//! connections, HTTP/2 ones with many streams included, keep the certificate they were made with.

use super::pem;
use arc_swap::ArcSwap;
use pingora::listeners::tls::TlsSettings;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::Path;
use std::sync::Arc;

/// A certificate chain with its key, checked to belong together.
#[derive(Debug)]
pub struct ServerCert {
    pub key: Arc<CertifiedKey>,
    /// The leaf's expiry, seconds since the Unix epoch.
    pub not_after: i64,
}

/// Which of the two files a problem is in; `Pair` when each is fine but they do not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Cert,
    Key,
    Pair,
}

impl ServerCert {
    /// Reads and checks the certificate chain at `cert` (leaf first) and the key at `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<ServerCert, (Part, String)> {
        let cert_pem = pem::read(cert).map_err(|e| (Part::Cert, e))?;
        let key_pem = pem::read(key).map_err(|e| (Part::Key, e))?;
        ServerCert::from_pem(&cert_pem, cert, &key_pem, key)
    }

    /// [`ServerCert::load`] on bytes already read (`cert_file` and `key_file` name them in
    /// messages).
    pub fn from_pem(
        cert_pem: &[u8],
        cert_file: &Path,
        key_pem: &[u8],
        key_file: &Path,
    ) -> Result<ServerCert, (Part, String)> {
        let chain = pem::certificates(cert_pem, cert_file).map_err(|e| (Part::Cert, e))?;
        let key = pem::private_key(key_pem, key_file).map_err(|e| (Part::Key, e))?;
        let not_after = pem::not_after(&chain[0]).ok_or_else(|| {
            (
                Part::Cert,
                format!(
                    "{}: the certificate has no readable expiry",
                    cert_file.display()
                ),
            )
        })?;
        let provider = rustls::crypto::ring::default_provider();
        let key = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => (
                Part::Pair,
                format!(
                    "the key in {} does not match the certificate in {} (the first certificate \
                     of the file must be the server's own, followed by its intermediates)",
                    key_file.display(),
                    cert_file.display()
                ),
            ),
            other => (
                Part::Key,
                format!("{}: unusable private key: {other}", key_file.display()),
            ),
        })?;
        Ok(ServerCert {
            key: Arc::new(key),
            not_after,
        })
    }

    /// Seconds from `now` (Unix time) until the certificate expires; negative once expired.
    pub fn seconds_left(&self, now: i64) -> i64 {
        self.not_after - now
    }
}

/// Hands every handshake the current certificate; [`CertResolver::replace`] swaps it.
#[derive(Debug)]
pub struct CertResolver {
    current: ArcSwap<ServerCert>,
}

impl CertResolver {
    pub fn new(cert: ServerCert) -> CertResolver {
        CertResolver {
            current: ArcSwap::from_pointee(cert),
        }
    }

    /// The certificate new handshakes get from now on.
    pub fn replace(&self, cert: ServerCert) {
        self.current.store(Arc::new(cert));
    }

    pub fn current(&self) -> Arc<ServerCert> {
        self.current.load_full()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load().key.clone())
    }
}

/// The listener's TLS settings: TLS 1.2 and 1.3 (pingora's rustls defaults), HTTP/2 preferred
/// and HTTP/1.1 allowed by ALPN, the certificate from `resolver`. With `offload`, handshakes
/// run on a pool of their own (`offload` runtimes of one thread each), so that a burst of new
/// connections does not delay requests on the worker threads (BENCHMARKS.md measures it).
pub fn settings(
    resolver: Arc<CertResolver>,
    offload: Option<usize>,
) -> Result<TlsSettings, String> {
    // No paths: with a resolver, pingora takes the certificate from it.
    let mut settings = TlsSettings::intermediate("", "")
        .map_err(|e| format!("cannot set up the TLS listener: {e}"))?;
    settings.set_cert_resolver(resolver);
    settings.enable_h2();
    if let Some(shards) = offload.filter(|n| *n > 0) {
        settings.set_offload_threadpool(shards, 1);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests;
