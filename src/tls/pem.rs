//! Reading PEM files: certificates (a chain, leaf first, or a CA bundle) and one private key.
//! Each certificate is parsed as X.509 here, because pingora's certificate types panic on
//! anything else; every error names the file and says what was wrong, never a key's bytes.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;

/// Far above any real certificate chain or CA bundle; a bound so that a wrong path (a log file,
/// a device) cannot make the gateway read without limit.
const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of a PEM file.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(format!(
            "{} is larger than {MAX_PEM_BYTES} bytes: not a PEM certificate or key",
            path.display()
        ));
    }
    Ok(bytes)
}

/// The `CERTIFICATE` blocks of a PEM text, in order; at least one, each valid X.509.
pub fn certificates(pem: &[u8], file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs = Vec::new();
    for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = item.map_err(|e| {
            format!(
                "{}: certificate {} is not valid PEM: {e}",
                file.display(),
                i + 1
            )
        })?;
        if let Err(e) = x509_parser::parse_x509_certificate(&cert) {
            return Err(format!(
                "{}: certificate {} is not a valid X.509 certificate: {e}",
                file.display(),
                i + 1
            ));
        }
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            file.display()
        ));
    }
    Ok(certs)
}

/// The first private key of a PEM text (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub fn private_key(pem: &[u8], file: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "{} holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC \
             PRIVATE KEY)",
            file.display()
        ),
        _ => format!("{}: the private key is not valid PEM", file.display()),
    })
}

/// When `cert` stops being valid, in seconds since the Unix epoch.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<i64> {
    x509_parser::parse_x509_certificate(cert)
        .ok()
        .map(|(_, c)| c.validity().not_after.timestamp())
}

#[cfg(test)]
mod tests;
