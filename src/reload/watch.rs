//! What triggers a reload: `SIGHUP`, or `routes.yaml` changing on disk. The file is polled
//! rather than watched with inotify because the usual ways it changes defeat a watch on the
//! path: Kubernetes updates a mounted ConfigMap by swapping a symlink two levels up, and editors
//! replace the file by renaming. Reading a small file once a second costs nothing, and comparing
//! a hash of its content (not its mtime) means a `touch` or a rewrite with the same bytes does
//! not reload.
//!
//! A change is acted on only once the content has stayed the same for [`SETTLE`] ([`Debounce`]),
//! so an editor writing the file in several steps does not cause a reload of a half-written
//! file. A content that was tried once (accepted or rejected) is not tried again until it
//! changes, so a broken file produces one error line, not one per second.

use super::certificate::CertWatch;
use super::reload_and_report;
use crate::app::App;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::Signal;

/// How long a new content must stay unchanged before it is loaded.
pub const SETTLE: Duration = Duration::from_millis(300);
/// How often the file is read when nothing is happening.
const POLL: Duration = Duration::from_secs(1);
/// How often it is read while a change settles.
const SETTLE_POLL: Duration = Duration::from_millis(100);

/// The identity of a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(content: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(content).into())
    }
}

/// The fingerprint of the file at `path`; `None` while it cannot be read (e.g. being replaced).
pub fn fingerprint(path: &Path) -> Option<Fingerprint> {
    std::fs::read(path).ok().map(|c| Fingerprint::of(&c))
}

/// What to do after looking at the file.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// The content is the one last tried.
    Idle,
    /// A new content, not stable for long enough yet.
    Settling,
    /// A new content, stable: reload it.
    Reload,
}

/// The debounce state: the content last tried and a change waiting to settle.
#[derive(Debug)]
pub struct Debounce {
    tried: Option<Fingerprint>,
    pending: Option<(Fingerprint, Instant)>,
    settle: Duration,
}

impl Debounce {
    /// Starts from the content the process loaded at start-up.
    pub fn new(loaded: Option<Fingerprint>, settle: Duration) -> Debounce {
        Debounce {
            tried: loaded,
            pending: None,
            settle,
        }
    }

    /// Looks at what is on disk `now`. `Reload` counts as trying that content.
    pub fn observe(&mut self, on_disk: Option<Fingerprint>, now: Instant) -> Poll {
        let Some(fp) = on_disk else {
            // Unreadable (being replaced, or removed): wait for a readable content.
            self.pending = None;
            return Poll::Idle;
        };
        if self.tried == Some(fp) {
            self.pending = None;
            return Poll::Idle;
        }
        match self.pending {
            Some((p, since)) if p == fp => {
                if now.saturating_duration_since(since) >= self.settle {
                    self.tried = Some(fp);
                    self.pending = None;
                    Poll::Reload
                } else {
                    Poll::Settling
                }
            }
            _ => {
                self.pending = Some((fp, now));
                Poll::Settling
            }
        }
    }

    /// Records a reload done for another reason (`SIGHUP`) of the content `on_disk`.
    pub fn tried(&mut self, on_disk: Option<Fingerprint>) {
        self.tried = on_disk;
        self.pending = None;
    }

    pub fn settling(&self) -> bool {
        self.pending.is_some()
    }
}

/// The background service that reloads the config on `SIGHUP` and on a change of the file, and
/// the listener's certificate on `SIGHUP` and on a change of its files (`super::certificate`).
pub struct ConfigWatcher {
    app: Arc<App>,
    path: PathBuf,
    hangup: tokio::sync::Mutex<Option<Signal>>,
    loaded: Option<Fingerprint>,
}

impl ConfigWatcher {
    /// `hangup` comes from [`crate::shutdown::Signals`], installed before the server starts.
    /// Call right after the config was loaded, so that the fingerprint is of what is running.
    pub fn new(app: Arc<App>, path: PathBuf, hangup: Signal) -> ConfigWatcher {
        let loaded = fingerprint(&path);
        ConfigWatcher {
            app,
            path,
            hangup: tokio::sync::Mutex::new(Some(hangup)),
            loaded,
        }
    }
}

#[async_trait]
impl BackgroundService for ConfigWatcher {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let Some(mut hangup) = self.hangup.lock().await.take() else {
            return;
        };
        let mut debounce = Debounce::new(self.loaded, SETTLE);
        let mut certs = CertWatch::new(&self.app);
        loop {
            let wait = if debounce.settling() || certs.settling() {
                SETTLE_POLL
            } else {
                POLL
            };
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return;
                    }
                }
                _ = hangup.recv() => {
                    let on_disk = fingerprint(&self.path);
                    reload_and_report(&self.app, &self.path, "SIGHUP");
                    debounce.tried(on_disk);
                    certs.hangup(&self.app);
                }
                _ = tokio::time::sleep(wait) => {
                    let now = Instant::now();
                    if debounce.observe(fingerprint(&self.path), now) == Poll::Reload {
                        reload_and_report(&self.app, &self.path, "file change");
                    }
                    certs.poll(&self.app, now);
                }
            }
        }
    }
}
