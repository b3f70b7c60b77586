//! Re-reading the proxy listener's certificate (`server.tls`) while serving: on `SIGHUP`, and
//! when the files' content changes. The files are polled like `routes.yaml` ([`super::watch`])
//! and for the same reason: cert-manager and the kubelet rotate a mounted Secret by swapping a
//! `..data` symlink, which a watch on the files' paths never sees; reading two small files once
//! a second and comparing their content does.
//!
//! The certificate and the key are read together and fingerprinted together, and a new pair is
//! used only once it has stayed the same for [`super::watch::SETTLE`]: a read that caught one
//! file renewed and the other not yet (a torn pair) is never tried. A pair that does not load
//! (unreadable, not PEM, the key not matching) is rejected with one log line and
//! `tokengate_tls_cert_reloads_total{result="rejected"}`, and the current certificate keeps
//! serving, like a bad config. New handshakes get the new certificate; established connections
//! are not touched.

use super::watch::{Debounce, Fingerprint, Poll, SETTLE};
use crate::app::App;
use crate::config::TlsFiles;
use crate::metrics::{RELOAD_REJECTED, RELOAD_SUCCESS};
use crate::tls::listener::ServerCert;
use std::time::Instant;

/// A certificate and key as read from disk, with the identity of that content.
pub struct PemPair {
    cert: Vec<u8>,
    key: Vec<u8>,
    fingerprint: Fingerprint,
}

impl PemPair {
    /// Both files, or `None` while either cannot be read (being replaced).
    pub fn read(files: &TlsFiles) -> Option<PemPair> {
        let cert = crate::tls::pem::read(&files.cert).ok()?;
        let key = crate::tls::pem::read(&files.key).ok()?;
        let mut both = Vec::with_capacity(cert.len() + key.len() + 8);
        both.extend_from_slice(&(cert.len() as u64).to_be_bytes());
        both.extend_from_slice(&cert);
        both.extend_from_slice(&key);
        Some(PemPair {
            fingerprint: Fingerprint::of(&both),
            cert,
            key,
        })
    }
}

/// The debounce state of the listener's certificate files.
pub struct CertWatch {
    debounce: Debounce,
}

impl CertWatch {
    /// Starts from what is on disk now (what the listener was built from a moment ago).
    pub fn new(app: &App) -> CertWatch {
        let on_disk = current_files(app)
            .and_then(|f| PemPair::read(&f))
            .map(|p| p.fingerprint);
        CertWatch {
            debounce: Debounce::new(on_disk, SETTLE),
        }
    }

    /// `SIGHUP`: loads the files now, whatever their content.
    pub fn hangup(&mut self, app: &App) {
        let Some(files) = current_files(app) else {
            return;
        };
        let pair = PemPair::read(&files);
        self.debounce.tried(pair.as_ref().map(|p| p.fingerprint));
        match pair {
            Some(pair) => {
                install(app, &files, &pair, "SIGHUP");
            }
            None => reject(app, &files, "SIGHUP", "the files cannot be read"),
        }
    }

    /// A poll tick: loads the files when their content changed and has settled.
    pub fn poll(&mut self, app: &App, now: Instant) {
        let Some(files) = current_files(app) else {
            return;
        };
        let pair = PemPair::read(&files);
        if self
            .debounce
            .observe(pair.as_ref().map(|p| p.fingerprint), now)
            == Poll::Reload
        {
            if let Some(pair) = pair {
                install(app, &files, &pair, "file change");
            }
        }
    }

    pub fn settling(&self) -> bool {
        self.debounce.settling()
    }
}

/// The certificate files of the running config, when the listener has TLS.
fn current_files(app: &App) -> Option<TlsFiles> {
    app.listener_cert.as_ref()?;
    app.current.load().config.server.tls.clone()
}

/// Builds the certificate from `pair` and makes it the one new handshakes get; false (and the
/// old one kept) when it does not load.
pub fn install(app: &App, files: &TlsFiles, pair: &PemPair, trigger: &'static str) -> bool {
    let Some(resolver) = app.listener_cert.as_ref() else {
        return false;
    };
    match ServerCert::from_pem(&pair.cert, &files.cert, &pair.key, &files.key) {
        Ok(cert) => {
            let not_after = cert.not_after;
            resolver.replace(cert);
            app.metrics.tls_cert_expiry.set(not_after);
            app.metrics
                .tls_cert_reloads
                .with_label_values(&[RELOAD_SUCCESS])
                .inc();
            tracing::info!(
                cert = %files.cert.display(),
                trigger,
                not_after,
                "listener certificate reloaded"
            );
            true
        }
        Err((_, message)) => {
            reject(app, files, trigger, &message);
            false
        }
    }
}

fn reject(app: &App, files: &TlsFiles, trigger: &'static str, message: &str) {
    app.metrics
        .tls_cert_reloads
        .with_label_values(&[RELOAD_REJECTED])
        .inc();
    tracing::error!(
        cert = %files.cert.display(),
        trigger,
        "listener certificate rejected: {message}; the current certificate keeps serving"
    );
}
