//! Per-session coordination of token exchanges: the hard part of a token gateway.
//!
//! A browser sends many requests at once with the same cookie, and learns about a rotated refresh
//! token only when a response reaches it. So the broker keeps, per session id, the latest state
//! this process produced (a bounded map with time-to-idle) and every request works from the newer
//! of its cookie and that state:
//!
//! 1. [`Broker::resolve`]: the cookie's session, or the newer latest state for its id.
//! 2. [`Broker::token_for`]: `cache::select` → hit: done, no lock.
//! 3. Miss: take the session's exchange lock, *re-read* the latest state (another request may have
//!    fetched the token, or rotated the refresh token, while we waited), select again, and only
//!    then call the token endpoint with the latest refresh token. The result is a new version.
//! 4. [`Broker::cookie_for_response`]: the response carries the latest state at the time it is
//!    sent, so no response drops a token a concurrent response added.
//!
//! Only sessions that changed in this process are in the map; a request whose cookie is current
//! costs one map lookup.

use super::cache::{self, Selection};
use super::client::TokenClient;
use super::response::Exchange;
use super::scope::Scope;
use crate::config::ProviderConfig;
use crate::metrics::Metrics;
use crate::session::codec::CodecError;
use crate::session::model::{now, Session, TokenSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session's latest state is kept after its last use, and how many are kept.
const LATEST_TIME_TO_IDLE: Duration = Duration::from_secs(15 * 60);
const LATEST_MAX_SESSIONS: u64 = 200_000;
/// A failed exchange is shared with the requests that were waiting for it for this long, so a
/// burst during an outage makes one call instead of one per request.
const FAILURE_SHARING: Duration = Duration::from_secs(2);
/// `Retry-After` when the provider did not say.
const DEFAULT_RETRY_AFTER: u64 = 5;

/// What one route needs.
#[derive(Clone, Copy, Debug)]
pub struct TokenNeed<'a> {
    pub route: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a Scope,
}

/// The token-selection settings of `tokens:`.
#[derive(Clone, Copy, Debug)]
pub struct TokenPolicy {
    pub leeway: u64,
    pub max_cached: usize,
}

/// How the token for a request was obtained (logged per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Hit,
    /// Another request of the same session obtained it while this one waited.
    Coalesced,
    Refreshed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Hit => "hit",
            Decision::Coalesced => "coalesced",
            Decision::Refreshed => "refreshed",
        }
    }
}

/// Why no token could be attached; each maps to one row of the contract's outcome table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// `invalid_grant`, or no refresh token to exchange: the session is over.
    SessionExpired,
    Unavailable {
        retry_after: u64,
    },
    Denied {
        code: String,
    },
    InvalidResponse,
    AudienceMismatch,
    InsufficientScope {
        missing: Scope,
    },
}

impl TokenError {
    /// The metric label and log code.
    pub fn code(&self) -> &str {
        match self {
            TokenError::SessionExpired => "session_expired",
            TokenError::Unavailable { .. } => "token_endpoint_unavailable",
            TokenError::Denied { .. } => "token_unavailable",
            TokenError::InvalidResponse => "token_endpoint_invalid_response",
            TokenError::AudienceMismatch => "audience_mismatch",
            TokenError::InsufficientScope { .. } => "insufficient_scope",
        }
    }
}

/// The latest known state of one session.
#[derive(Clone)]
enum SlotState {
    Live(Arc<Session>),
    /// Ended by the provider (`invalid_grant`): every copy of the cookie is dead.
    Ended,
}

struct RecentFailure {
    audience: Option<String>,
    scope: Scope,
    at: Instant,
    error: TokenError,
}

/// One session's coordination point.
pub struct SessionSlot {
    state: Mutex<SlotState>,
    /// Serialises token-endpoint calls of this session (one refresh token, one user at a time).
    exchange: tokio::sync::Mutex<()>,
    /// The sealed cookie value of the latest version, so fifty concurrent responses encrypt once.
    sealed: Mutex<Option<(u64, Arc<str>)>>,
    failure: Mutex<Option<RecentFailure>>,
}

impl SessionSlot {
    fn new(session: Arc<Session>) -> Self {
        SessionSlot {
            state: Mutex::new(SlotState::Live(session)),
            exchange: tokio::sync::Mutex::new(()),
            sealed: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }

    fn current(&self) -> SlotState {
        match self.state.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, next: SlotState) {
        match self.state.lock() {
            Ok(mut s) => *s = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    /// Takes in a copy seen on a request: a newer one (another replica or a restart wrote it)
    /// replaces ours; an older one is answered with ours.
    fn observe(&self, seen: &Arc<Session>) -> SlotState {
        let mut guard = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let SlotState::Live(cur) = &*guard {
            if seen.version > cur.version {
                *guard = SlotState::Live(seen.clone());
            }
        }
        guard.clone()
    }
}

/// A request's view of its session.
pub struct SessionView {
    pub session: Arc<Session>,
    /// The version the request's cookie carried: the response writes a cookie only when the
    /// latest version differs.
    pub cookie_version: u64,
    slot: Option<Arc<SessionSlot>>,
}

/// What the response must do with the session cookie.
#[derive(Debug, PartialEq, Eq)]
pub enum CookieUpdate {
    Unchanged,
    Write(Arc<str>),
    Clear,
}

pub struct Broker {
    latest: moka::sync::Cache<String, Arc<SessionSlot>>,
    client: TokenClient,
    metrics: Arc<Metrics>,
}

impl Broker {
    pub fn new(client: TokenClient, metrics: Arc<Metrics>) -> Self {
        Broker {
            latest: moka::sync::Cache::builder()
                .max_capacity(LATEST_MAX_SESSIONS)
                .time_to_idle(LATEST_TIME_TO_IDLE)
                .build(),
            client,
            metrics,
        }
    }

    pub fn client(&self) -> &TokenClient {
        &self.client
    }

    /// The session a request works from, or `None` when the provider ended it.
    pub fn resolve(&self, cookie: Session) -> Option<SessionView> {
        let cookie_version = cookie.version;
        let session = Arc::new(cookie);
        match self.latest.get(&session.sid) {
            None => Some(SessionView {
                session,
                cookie_version,
                slot: None,
            }),
            Some(slot) => match slot.observe(&session) {
                SlotState::Ended => None,
                SlotState::Live(latest) => Some(SessionView {
                    session: latest,
                    cookie_version,
                    slot: Some(slot),
                }),
            },
        }
    }

    fn slot_for(&self, view: &mut SessionView) -> Arc<SessionSlot> {
        if let Some(slot) = &view.slot {
            return slot.clone();
        }
        let initial = view.session.clone();
        let slot = self.latest.get_with(view.session.sid.clone(), || {
            Arc::new(SessionSlot::new(initial))
        });
        slot.observe(&view.session);
        view.slot = Some(slot.clone());
        slot
    }

    /// Applies a change that is not a token exchange (e.g. the idle-timeout `last_seen`), as a
    /// new version.
    pub fn update(&self, view: &mut SessionView, change: impl FnOnce(&mut Session)) {
        let slot = self.slot_for(view);
        let mut guard = match slot.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let SlotState::Live(cur) = &*guard {
            let mut next = (**cur).clone();
            change(&mut next);
            next.version = cur.version + 1;
            let next = Arc::new(next);
            *guard = SlotState::Live(next.clone());
            view.session = next;
        }
    }

    /// The access token for `need`, from the session or from one token-endpoint exchange shared
    /// by every concurrent request of the session that needs it.
    pub async fn token_for(
        &self,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        policy: TokenPolicy,
        provider: &ProviderConfig,
    ) -> Result<(String, Decision), TokenError> {
        match cache::select(
            &view.session,
            need.audience,
            need.scope,
            now(),
            policy.leeway,
        ) {
            Selection::Hit(t) => {
                self.metrics.token_cache.with_label_values(&["hit"]).inc();
                return Ok((t.access_token.clone(), Decision::Hit));
            }
            Selection::NarrowGrant { missing } => {
                self.metrics.token_cache.with_label_values(&["hit"]).inc();
                return Err(TokenError::InsufficientScope { missing });
            }
            Selection::Miss => {}
        }
        self.metrics.token_cache.with_label_values(&["miss"]).inc();

        let slot = self.slot_for(view);
        let waited_since = Instant::now();
        let _turn = slot.exchange.lock().await;

        // Our turn: work from the latest state, never from what we read before waiting.
        let session = match slot.current() {
            SlotState::Ended => return Err(TokenError::SessionExpired),
            SlotState::Live(s) => s,
        };
        view.session = session.clone();
        match cache::select(&session, need.audience, need.scope, now(), policy.leeway) {
            Selection::Hit(t) => {
                self.metrics.refresh_coalesced.inc();
                tracing::debug!(route = need.route, "token obtained by a concurrent request");
                return Ok((t.access_token.clone(), Decision::Coalesced));
            }
            Selection::NarrowGrant { missing } => {
                self.metrics.refresh_coalesced.inc();
                return Err(TokenError::InsufficientScope { missing });
            }
            Selection::Miss => {}
        }
        if let Some(err) = shared_failure(&slot, need, waited_since) {
            self.metrics.refresh_coalesced.inc();
            return Err(err);
        }
        let Some(refresh_token) = session.refresh_token.as_deref() else {
            slot.set(SlotState::Ended);
            self.metrics
                .sessions_cleared
                .with_label_values(&["no_refresh_token"])
                .inc();
            return Err(TokenError::SessionExpired);
        };

        let report = self
            .client
            .refresh(provider, refresh_token, need.audience, need.scope)
            .await;
        self.metrics
            .token_duration
            .with_label_values(&[need.route])
            .observe(report.elapsed.as_secs_f64());
        let outcome = outcome_label(&report.exchange);
        self.metrics
            .token_requests
            .with_label_values(&[need.route, outcome])
            .inc();

        let result = self.apply(&slot, view, &session, need, policy, report.exchange);
        match &result {
            Ok(_) => {
                tracing::info!(route = need.route, audience = need.audience.unwrap_or(""), scope = %need.scope, "token obtained")
            }
            Err(e) => {
                let e = match e {
                    TokenError::Unavailable { .. } => TokenError::Unavailable {
                        retry_after: report
                            .retry_after
                            .map(|s| s.clamp(1, 300))
                            .unwrap_or(DEFAULT_RETRY_AFTER),
                    },
                    other => other.clone(),
                };
                tracing::warn!(
                    route = need.route,
                    audience = need.audience.unwrap_or(""),
                    error = e.code(),
                    detail = report.transport_error.as_deref().unwrap_or(outcome),
                    "token exchange failed"
                );
                if let Ok(mut f) = slot.failure.lock() {
                    *f = Some(RecentFailure {
                        audience: need.audience.map(str::to_owned),
                        scope: need.scope.clone(),
                        at: Instant::now(),
                        error: e.clone(),
                    });
                }
                return Err(e);
            }
        }
        result
    }

    /// Records what an exchange produced as the session's next version.
    fn apply(
        &self,
        slot: &SessionSlot,
        view: &mut SessionView,
        session: &Session,
        need: TokenNeed<'_>,
        policy: TokenPolicy,
        exchange: Exchange,
    ) -> Result<(String, Decision), TokenError> {
        let commit = |next: Session, view: &mut SessionView| {
            let next = Arc::new(next);
            slot.set(SlotState::Live(next.clone()));
            view.session = next;
        };
        // Whatever else happens, a rotated refresh token is kept: dropping it would make the next
        // exchange a reuse.
        let keep_rotated = |rotated: Option<String>, view: &mut SessionView| {
            if let Some(rt) = rotated {
                let mut next = session.clone();
                next.refresh_token = Some(rt);
                next.version = session.version + 1;
                commit(next, view);
            }
        };
        match exchange {
            Exchange::Success {
                grant,
                refresh_token,
                id_token,
            } => {
                let t = now();
                let mut next = session.clone();
                next.version = session.version + 1;
                if let Some(rt) = refresh_token {
                    next.refresh_token = Some(rt);
                }
                if let Some(idt) = id_token {
                    next.id_token = Some(idt);
                }
                let covers = grant.scope.covers(need.scope);
                let missing = grant.scope.missing(need.scope);
                let access_token = grant.access_token.clone();
                cache::store(
                    &mut next,
                    TokenSet {
                        audience: need.audience.map(str::to_owned),
                        scope: grant.scope,
                        requested: need.scope.clone(),
                        access_token: grant.access_token,
                        expires_at: grant.expires_at,
                        last_used: t,
                    },
                    t,
                    policy.leeway,
                    policy.max_cached,
                );
                commit(next, view);
                if covers {
                    Ok((access_token, Decision::Refreshed))
                } else {
                    Err(TokenError::InsufficientScope { missing })
                }
            }
            Exchange::InvalidGrant => {
                slot.set(SlotState::Ended);
                self.metrics
                    .sessions_cleared
                    .with_label_values(&["invalid_grant"])
                    .inc();
                Err(TokenError::SessionExpired)
            }
            Exchange::Unavailable { .. } => Err(TokenError::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER,
            }),
            Exchange::Denied {
                code,
                refresh_token,
            } => {
                keep_rotated(refresh_token, view);
                Err(TokenError::Denied { code })
            }
            Exchange::InvalidResponse { refresh_token, .. } => {
                keep_rotated(refresh_token, view);
                Err(TokenError::InvalidResponse)
            }
            Exchange::AudienceMismatch { refresh_token } => {
                keep_rotated(refresh_token, view);
                Err(TokenError::AudienceMismatch)
            }
        }
    }

    /// What the response does with the cookie: the latest state at this moment, when it is not
    /// what the request's cookie already holds.
    pub fn cookie_for_response(
        &self,
        view: &SessionView,
        seal: impl FnOnce(&Session) -> Result<String, CodecError>,
    ) -> CookieUpdate {
        let slot = match &view.slot {
            Some(s) => s.clone(),
            None => match self.latest.get(&view.session.sid) {
                Some(s) => s,
                None => return CookieUpdate::Unchanged,
            },
        };
        match slot.current() {
            SlotState::Ended => CookieUpdate::Clear,
            SlotState::Live(s) if s.version == view.cookie_version => CookieUpdate::Unchanged,
            SlotState::Live(s) => {
                let mut sealed = match slot.sealed.lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if let Some((v, value)) = &*sealed {
                    if *v == s.version {
                        return CookieUpdate::Write(value.clone());
                    }
                }
                match seal(&s) {
                    Ok(value) => {
                        let value: Arc<str> = value.into();
                        *sealed = Some((s.version, value.clone()));
                        CookieUpdate::Write(value)
                    }
                    // Too large even after pruning: the latest state stays in memory and the
                    // browser keeps its older cookie; the operator sees the metric.
                    Err(e) => {
                        self.metrics
                            .session_rejected
                            .with_label_values(&[&format!("seal_{}", e.reason())])
                            .inc();
                        tracing::error!(error = %e, "the session could not be sealed into a cookie; lower tokens.max_cached or use store: redis");
                        CookieUpdate::Unchanged
                    }
                }
            }
        }
    }

    /// Forgets a session (logout).
    /// Ends a session (logout): every copy of its cookie this process sees afterwards is dead,
    /// for as long as the latest-state map remembers the id.
    pub fn end(&self, sid: &str) {
        match self.latest.get(sid) {
            Some(slot) => slot.set(SlotState::Ended),
            None => {
                let slot = SessionSlot {
                    state: Mutex::new(SlotState::Ended),
                    exchange: tokio::sync::Mutex::new(()),
                    sealed: Mutex::new(None),
                    failure: Mutex::new(None),
                };
                self.latest.insert(sid.to_owned(), Arc::new(slot));
            }
        }
    }

    /// Number of sessions in the latest-state map (for benchmarks and metrics).
    pub fn latest_len(&self) -> u64 {
        self.latest.run_pending_tasks();
        self.latest.entry_count()
    }
}

/// A failure of an exchange for the same need that completed while this request was waiting.
fn shared_failure(
    slot: &SessionSlot,
    need: TokenNeed<'_>,
    waited_since: Instant,
) -> Option<TokenError> {
    let f = slot.failure.lock().ok()?;
    let f = f.as_ref()?;
    let same = f.audience.as_deref() == need.audience && &f.scope == need.scope;
    (same && f.at >= waited_since && f.at.elapsed() < FAILURE_SHARING).then(|| f.error.clone())
}

fn outcome_label(e: &Exchange) -> &'static str {
    match e {
        Exchange::Success { .. } => "success",
        Exchange::InvalidGrant => "invalid_grant",
        Exchange::Unavailable { .. } => "unavailable",
        Exchange::Denied { .. } => "denied",
        Exchange::InvalidResponse { .. } => "invalid_response",
        Exchange::AudienceMismatch { .. } => "audience_mismatch",
    }
}
