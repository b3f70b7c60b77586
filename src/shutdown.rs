//! Graceful termination: on `SIGTERM` the gateway stops accepting, lets the requests it is
//! serving finish within `server.grace_period`, and exits 0 — as soon as they are done, not after
//! the whole grace period.
//!
//! Why it is built this way (pingora 0.9.1, `pingora-core/src/server/mod.rs`): `Server::run` asks
//! a [`ShutdownSignalWatch`] when to stop. When that answers `GracefulTerminate`, pingora
//! broadcasts shutdown: every listener leaves its accept loop (new connections are refused),
//! connections idle between keep-alive requests are closed, and requests already being served
//! carry on (their connection is not reused). Then pingora *sleeps* `grace_period_seconds`
//! unconditionally and shuts its runtimes down, which drops whatever is still running. Sleeping
//! 30 s on every rolling deploy is slow, pingora has no hook to end that sleep early, and the
//! listeners only stop once `recv()` has returned, so the waiting cannot happen inside `recv()`.
//!
//! So pingora runs on a thread of its own ([`run`]) and the calling (main) thread decides when
//! the process ends:
//! 1. [`TermWatch`] receives `SIGTERM`, tells the main thread, and answers `GracefulTerminate`:
//!    pingora stops accepting at once.
//! 2. The main thread watches the in-flight count ([`InFlight`]: every proxy request holds a
//!    [`RequestGuard`] in its context from its first phase to its log line) and returns once it
//!    is zero, or once the grace period is over ([`drain_step`]).
//! 3. Returning from `main` ends the process with status 0, cutting pingora's sleep short. Its
//!    own grace period is set longer than ours ([`pingora_grace_seconds`]), as a backstop only.
//!
//! `SIGINT` stays a fast shutdown, as in pingora. `SIGQUIT` (pingora's graceful upgrade) is not
//! handled: tokengate is replaced by starting a new instance, not by handing over sockets.

use async_trait::async_trait;
use pingora::server::{RunArgs, Server, ShutdownSignal, ShutdownSignalWatch};
use prometheus::IntGauge;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// After `SIGTERM`, the in-flight count is trusted only after this long: a request whose header
/// pingora had already read when the shutdown was broadcast may not have entered yet.
const SETTLE: Duration = Duration::from_millis(100);
/// How often the main thread looks at the in-flight count while draining.
const POLL: Duration = Duration::from_millis(20);

/// The number of proxy requests being served. Backed by the `tokengate_requests_in_flight`
/// gauge, so the shutdown and the operator read the same number.
#[derive(Clone)]
pub struct InFlight(IntGauge);

impl InFlight {
    pub fn new(gauge: IntGauge) -> InFlight {
        InFlight(gauge)
    }

    /// Counts a request until the guard is dropped (with the request's context, after logging).
    pub fn enter(&self) -> RequestGuard {
        self.0.inc();
        RequestGuard(self.0.clone())
    }

    pub fn count(&self) -> i64 {
        self.0.get()
    }
}

/// Held by a request's context; a `Drop` rather than a call in the last phase, so that a
/// request that ends by an error or a panic is uncounted too.
pub struct RequestGuard(IntGauge);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// What the main thread does next while draining.
#[derive(Debug, PartialEq, Eq)]
pub enum DrainStep {
    Wait,
    /// Nothing in flight: exit now.
    Drained,
    /// The grace period is over with requests still running: exit anyway (they are cut).
    GraceOver {
        in_flight: i64,
    },
}

/// The drain decision, `elapsed` after `SIGTERM`.
pub fn drain_step(in_flight: i64, elapsed: Duration, grace: Duration) -> DrainStep {
    let settled = elapsed >= SETTLE || elapsed >= grace;
    match (in_flight <= 0, elapsed >= grace) {
        (true, _) if settled => DrainStep::Drained,
        (false, true) => DrainStep::GraceOver { in_flight },
        _ => DrainStep::Wait,
    }
}

/// pingora's `grace_period_seconds`: our grace period rounded up, plus one second, so that the
/// main thread always decides first and pingora's unconditional sleep is only a backstop.
pub fn pingora_grace_seconds(grace: Duration) -> u64 {
    let whole = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    whole + 1
}

/// The signal handlers, installed before pingora starts: until a handler is installed, `SIGHUP`
/// and `SIGTERM` take their default action and kill the process, so a reload or a stop sent
/// while the services start would end it abruptly. tokio never uninstalls a handler, and a
/// [`Signal`] is a plain receiver that any runtime's signal driver feeds, so they can be created
/// in a throwaway runtime and awaited later in pingora's.
pub struct Signals {
    pub terminate: Signal,
    pub interrupt: Signal,
    pub hangup: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let _context = rt.enter();
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

/// What the pingora thread tells the main thread.
enum Event {
    Terminating(Instant),
    Stopped,
}

/// The [`ShutdownSignalWatch`] given to pingora: `SIGTERM` → graceful, `SIGINT` → fast.
struct TermWatch {
    signals: tokio::sync::Mutex<(Signal, Signal)>,
    events: mpsc::Sender<Event>,
}

#[async_trait]
impl ShutdownSignalWatch for TermWatch {
    async fn recv(&self) -> ShutdownSignal {
        let mut signals = self.signals.lock().await;
        let (terminate, interrupt) = &mut *signals;
        tokio::select! {
            _ = terminate.recv() => {
                tracing::info!("SIGTERM received: no new connections; waiting for requests in flight");
                let _ = self.events.send(Event::Terminating(Instant::now()));
                ShutdownSignal::GracefulTerminate
            }
            _ = interrupt.recv() => {
                tracing::info!("SIGINT received: stopping now");
                ShutdownSignal::FastShutdown
            }
        }
    }
}

/// Runs `server` until it is told to stop; returns when the process may exit with status 0.
/// `Err` when the server thread died (a panic at start-up).
pub fn run(
    server: Server,
    terminate: Signal,
    interrupt: Signal,
    in_flight: InFlight,
    grace: Duration,
) -> Result<(), String> {
    let (events, rx) = mpsc::channel();
    let stopped = events.clone();
    let watch = TermWatch {
        signals: tokio::sync::Mutex::new((terminate, interrupt)),
        events,
    };
    let pingora = std::thread::Builder::new()
        .name("pingora".into())
        .spawn(move || {
            server.run(RunArgs {
                shutdown_signal: Box::new(watch),
            });
            let _ = stopped.send(Event::Stopped);
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    match rx.recv() {
        Ok(Event::Terminating(since)) => {
            drain(&rx, &in_flight, since, grace);
            Ok(())
        }
        Ok(Event::Stopped) | Err(_) => pingora
            .join()
            .map_err(|_| "the server thread stopped on a panic".to_owned()),
    }
}

/// Waits until nothing is in flight or the grace period is over.
fn drain(rx: &mpsc::Receiver<Event>, in_flight: &InFlight, since: Instant, grace: Duration) {
    loop {
        match drain_step(in_flight.count(), since.elapsed(), grace) {
            DrainStep::Wait => match rx.recv_timeout(POLL) {
                Ok(Event::Stopped) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Event::Terminating(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            },
            DrainStep::Drained => {
                tracing::info!(
                    after_ms = since.elapsed().as_millis() as u64,
                    "requests in flight finished; exiting"
                );
                return;
            }
            DrainStep::GraceOver { in_flight } => {
                tracing::warn!(
                    in_flight,
                    grace_period = ?grace,
                    "grace period over with requests still in flight; exiting"
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
