//! A route's TLS material for its upstream: a private CA bundle (`upstream_ca`) and a client
//! certificate (`upstream_client_cert`), read when the config loads and kept in the form
//! pingora's connector takes (`HttpPeer` options `ca` and `client_cert_key`), so that a request
//! only clones an `Arc`.
//!
//! pingora decides whether a pooled upstream connection may be reused from the peer's address,
//! SNI, client certificate serials and a `group_key`, not from its CA bundle: two routes to the
//! same upstream with different CAs would share connections, each verified by only one of the
//! bundles. [`group_key`] folds a fingerprint of both files into that key (`proxy::peer`).

use super::listener::{Part, ServerCert};
use super::pem;
use pingora::utils::tls::{CertKey, WrappedX509};
use rustls::pki_types::PrivateKeyDer;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificates an upstream's certificate must chain to, instead of the system's roots.
#[derive(Clone)]
pub struct CaBundle {
    pub path: PathBuf,
    pub certs: Arc<[WrappedX509]>,
    /// Identifies the bundle's content in the connection pool's key.
    pub fingerprint: u64,
}

impl CaBundle {
    /// Reads the PEM bundle at `path` (one or more `CERTIFICATE` blocks).
    pub fn load(path: &str) -> Result<CaBundle, String> {
        let path = PathBuf::from(path);
        let bytes = pem::read(&path)?;
        let certs = pem::certificates(&bytes, &path)?;
        let fingerprint = fingerprint(certs.iter().map(|c| c.as_ref()));
        let certs: Vec<WrappedX509> = certs
            .into_iter()
            .map(|c| WrappedX509::new(c.to_vec(), pingora::utils::tls::parse_x509))
            .collect();
        Ok(CaBundle {
            path,
            certs: certs.into(),
            fingerprint,
        })
    }
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CaBundle({}, {} certificates)",
            self.path.display(),
            self.certs.len()
        )
    }
}

/// The certificate (and key) the gateway presents to an upstream that asks for one (mTLS).
#[derive(Clone)]
pub struct ClientCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub pair: Arc<CertKey>,
    /// Identifies the certificate and key in the connection pool's key.
    pub fingerprint: u64,
}

impl ClientCert {
    /// Reads the chain at `cert` (leaf first) and the key at `key`, checked to match.
    pub fn load(cert: &Path, key: &Path) -> Result<ClientCert, (Part, String)> {
        let cert_pem = pem::read(cert).map_err(|e| (Part::Cert, e))?;
        let key_pem = pem::read(key).map_err(|e| (Part::Key, e))?;
        // The same checks as the listener's certificate: parseable, and the key matches.
        ServerCert::from_pem(&cert_pem, cert, &key_pem, key)?;
        let chain = pem::certificates(&cert_pem, cert).map_err(|e| (Part::Cert, e))?;
        let key_der = pem::private_key(&key_pem, key).map_err(|e| (Part::Key, e))?;
        let key_bytes = key_der.secret_der().to_vec();
        // pingora turns the bytes back into a key with `try_into().unwrap()` on every new
        // connection: make sure here, once, that this cannot fail.
        if PrivateKeyDer::try_from(key_bytes.clone()).is_err() {
            return Err((
                Part::Key,
                format!(
                    "{}: the private key's format is not recognised",
                    key.display()
                ),
            ));
        }
        let digest = Sha256::digest(&key_bytes);
        let fingerprint = fingerprint(
            chain
                .iter()
                .map(|c| c.as_ref())
                .chain(std::iter::once(digest.as_slice())),
        );
        let chain: Vec<Vec<u8>> = chain.into_iter().map(|c| c.to_vec()).collect();
        Ok(ClientCert {
            cert: cert.to_owned(),
            key: key.to_owned(),
            pair: Arc::new(CertKey::new(chain, key_bytes)),
            fingerprint,
        })
    }
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientCert({}, key {})",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// The pool key part for a route's TLS material: routes whose upstream connections were
/// verified or authenticated differently never share one. 0 when neither is set.
pub fn group_key(ca: Option<&CaBundle>, client: Option<&ClientCert>) -> u64 {
    let ca = ca.map_or(0, |c| c.fingerprint);
    let client = client.map_or(0, |c| c.fingerprint);
    ca ^ client.rotate_left(32)
}

/// The first 8 bytes of a SHA-256 over `parts` (each length-prefixed, so that two different
/// splits of the same bytes differ).
fn fingerprint<'a>(parts: impl Iterator<Item = &'a [u8]>) -> u64 {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests;
