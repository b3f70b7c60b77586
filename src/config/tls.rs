//! The TLS keys of `routes.yaml` (docs/reference.md#tls-and-http2): `server.tls` and a route's
//! `upstream_ca`, `upstream_client_cert` and `upstream_sni`. Their files are read here, when the
//! config loads, so that `check` reports a missing file, a PEM without a certificate or a key
//! that does not match its certificate, and no request ever reads a file.

use super::model::{CaBundle, ClientCert, TlsFiles};
use super::read;
use super::section::section;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::tls::listener::{Part, ServerCert};
use std::path::{Path, PathBuf};

/// `server.tls: {cert, key}`: the files exist, hold PEM, and the key matches the certificate.
/// Only the paths are kept: the listener reads the files itself, and again when they change.
pub(crate) fn server_tls(w: &mut Walker, path: &str, node: &Node) -> Field<TlsFiles> {
    let files = pem_files(w, path, node);
    let Field::Value(f) = &files else {
        return files;
    };
    match ServerCert::load(&f.cert, &f.key) {
        Ok(cert) => {
            if cert.seconds_left(unix_now()) <= 0 {
                w.warn(
                    &join(path, "cert"),
                    "the certificate has expired: browsers will refuse the connection; renew \
                     it (the gateway picks up the new files without a restart)",
                );
            }
            files
        }
        Err((part, message)) => {
            w.error(&part_path(path, part), message);
            Field::Bad
        }
    }
}

/// A route's `upstream_client_cert: {cert, key}`, loaded for the connector.
pub(crate) fn client_cert(w: &mut Walker, path: &str, node: &Node) -> Field<ClientCert> {
    let Field::Value(f) = pem_files(w, path, node) else {
        return Field::Bad;
    };
    match ClientCert::load(&f.cert, &f.key) {
        Ok(cert) => Field::Value(cert),
        Err((part, message)) => {
            w.error(&part_path(path, part), message);
            Field::Bad
        }
    }
}

/// A route's `upstream_ca`: a PEM bundle of one or more certificates.
pub(crate) fn ca_bundle(w: &mut Walker, path: &str, node: &Node) -> Field<CaBundle> {
    read::parsed(CaBundle::load)(w, path, node)
}

/// `upstream_sni`: a DNS name (or an IP address) that rustls accepts as a server name. An
/// empty one is refused: pingora would then skip verifying the certificate altogether.
pub(crate) fn server_name(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    rustls::pki_types::ServerName::try_from(value)
        .map(|_| value.to_owned())
        .map_err(|_| {
            format!("{value:?} is not a valid server name (a DNS name such as api.internal)")
        })
}

/// `{cert, key}`: two paths.
fn pem_files(w: &mut Walker, path: &str, node: &Node) -> Field<TlsFiles> {
    section!(w, path, node, TlsFiles {
        cert: required => read::parsed(file_path),
        key: required => read::parsed(file_path),
    })
}

fn file_path(value: &str) -> Result<PathBuf, String> {
    if value.trim().is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(Path::new(value).to_owned())
    }
}

fn part_path(path: &str, part: Part) -> String {
    match part {
        Part::Cert => join(path, "cert"),
        Part::Key => join(path, "key"),
        Part::Pair => path.to_owned(),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
