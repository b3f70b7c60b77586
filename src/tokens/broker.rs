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
//!
//! With `store: redis` the session lives in Redis and the same steps hold across replicas: after
//! the local turn, the replica takes the session's Redis lock (owner token, expiry, extended while
//! the exchange runs), reads the session *again from Redis*, and writes the new version back before
//! releasing the lock.

use super::cache::{self, Selection};
use super::client::{ExchangeReport, TokenClient};
pub use super::error::TokenError;
use super::response::Exchange;
use super::scope::Scope;
use crate::config::ProviderConfig;
use crate::metrics::Metrics;
use crate::session::codec::{CodecError, KeyRing};
use crate::session::lifetime::Lifetime;
use crate::session::model::{now, Session, TokenSet};
use crate::session::store::{LockToken, RedisStore, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session's latest state is kept after its last use, and how many are kept.
const LATEST_TIME_TO_IDLE: Duration = Duration::from_secs(15 * 60);
const LATEST_MAX_SESSIONS: u64 = 200_000;
/// The map's memory bound. A session with three ~900-byte access tokens and an ID token costs
/// about 7.5 KB in the map (measured by `benches/latest.rs`), so this holds about 35 000 changed
/// sessions; evicting one is safe once its browser has the latest cookie, which is nearly always.
const LATEST_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// A failed exchange is shared with the requests that were waiting for it for this long, so a
/// burst during an outage makes one call instead of one per request.
const FAILURE_SHARING: Duration = Duration::from_secs(2);
/// `Retry-After` when the provider did not say.
const DEFAULT_RETRY_AFTER: u64 = 5;
/// How long a request waits for another replica's exchange before answering `503`.
const REDIS_LOCK_WAIT_EXTRA: Duration = Duration::from_secs(5);
/// The Redis lock outlives the exchange's own time limit by this much.
const REDIS_LOCK_MARGIN: Duration = Duration::from_secs(5);

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

/// What an exchange needs from the current config.
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    pub policy: TokenPolicy,
    pub provider: &'a ProviderConfig,
    pub keys: &'a KeyRing,
    pub lifetime: &'a Lifetime,
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

/// `(audience, scope)`: what one exchange is for.
type NeedKey = (Option<String>, Scope);

/// One session's coordination point.
pub struct SessionSlot {
    state: Mutex<SlotState>,
    /// Serialises token-endpoint calls of this session (one refresh token, one at a time):
    /// taken exclusively, or shared together with a per-need lock when the provider is known
    /// not to rotate refresh tokens.
    exchange: tokio::sync::RwLock<()>,
    per_need: Mutex<HashMap<NeedKey, Arc<tokio::sync::Mutex<()>>>>,
    /// The sealed cookie value of the latest version, so fifty concurrent responses encrypt once.
    sealed: Mutex<Option<(u64, Arc<str>)>>,
    failure: Mutex<Option<RecentFailure>>,
}

impl SessionSlot {
    fn new(session: Arc<Session>) -> Self {
        SessionSlot {
            state: Mutex::new(SlotState::Live(session)),
            exchange: tokio::sync::RwLock::new(()),
            per_need: Mutex::new(HashMap::new()),
            sealed: Mutex::new(None),
            failure: Mutex::new(None),
        }
    }

    /// Approximate bytes this slot holds, for the map's memory bound (taken when it is inserted).
    fn weight(&self) -> u32 {
        let session_bytes = match self.current() {
            SlotState::Ended => 0,
            SlotState::Live(s) => {
                let tokens: usize = s
                    .primary
                    .iter()
                    .chain(s.extra.iter())
                    .map(|t| t.access_token.len() + 400)
                    .sum();
                tokens
                    + s.refresh_token.as_ref().map_or(0, String::len)
                    + s.id_token.as_ref().map_or(0, String::len)
            }
        };
        // Slot, locks, map entry and allocator overhead: calibrated so the weight matches the
        // resident memory `benches/latest.rs` measures (about 7.5 KB for the session above).
        u32::try_from(session_bytes + 2500).unwrap_or(u32::MAX)
    }

    /// The lock that serialises exchanges for one `(audience, scope)` of this session.
    fn need_lock(&self, need: TokenNeed<'_>) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.per_need.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry((need.audience.map(str::to_owned), need.scope.clone()))
            .or_default()
            .clone()
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
    redis: Option<RedisStore>,
    /// `UNKNOWN`, `ROTATES` or `DOES_NOT_ROTATE`: whether exchanges of one session may overlap.
    rotation: AtomicU8,
    /// Redis sessions whose expiry was moved recently (idle timeout), so a busy session does
    /// not cost a Redis write per request.
    touched: moka::sync::Cache<String, ()>,
}

impl Broker {
    /// `redis`: the shared store, or `None` for the cookie store.
    pub fn new(client: TokenClient, metrics: Arc<Metrics>, redis: Option<RedisStore>) -> Self {
        Broker {
            latest: moka::sync::Cache::builder()
                .max_capacity(LATEST_MAX_BYTES)
                .weigher(|_sid: &String, slot: &Arc<SessionSlot>| slot.weight())
                .time_to_idle(LATEST_TIME_TO_IDLE)
                .build(),
            client,
            metrics,
            redis,
            rotation: AtomicU8::new(UNKNOWN),
            touched: moka::sync::Cache::builder()
                .max_capacity(LATEST_MAX_SESSIONS)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    pub fn client(&self) -> &TokenClient {
        &self.client
    }

    pub fn redis(&self) -> Option<&RedisStore> {
        self.redis.as_ref()
    }

    /// The session a cookie *refers to* (redis store): `Ok(None)` when Redis no longer has it.
    pub async fn resolve_reference(
        &self,
        sid: &str,
        keys: &KeyRing,
        lifetime: &Lifetime,
    ) -> Result<Option<SessionView>, StoreError> {
        let Some(store) = &self.redis else {
            return Ok(None);
        };
        let Some(session) = store.load(keys, sid).await? else {
            return Ok(None);
        };
        // The idle timeout is the record's expiry in Redis (moved by `touch`); only the
        // absolute lifetime is checked here.
        let absolute_only = Lifetime {
            idle: None,
            ..*lifetime
        };
        if absolute_only.expired(&session, now()).is_some() {
            return Ok(None);
        }
        let cookie_version = session.version;
        Ok(Some(SessionView {
            session: Arc::new(session),
            cookie_version,
            slot: None,
        }))
    }

    /// Keeps an idle-timeout session alive: in the cookie store a new version with `last_seen`;
    /// in Redis only the record's expiry moves (rewriting it could overwrite a refresh token
    /// another replica just stored).
    pub async fn touch(
        &self,
        view: &mut SessionView,
        lifetime: &Lifetime,
    ) -> Result<(), StoreError> {
        let t = now();
        match &self.redis {
            None => {
                self.update(view, |s| s.last_seen = t);
                Ok(())
            }
            Some(store) => {
                // At most one expiry update per session per minute and process.
                if self.touched.contains_key(&view.session.sid) {
                    return Ok(());
                }
                store
                    .touch(&view.session, lifetime.record_ttl(&view.session, t))
                    .await?;
                self.touched.insert(view.session.sid.clone(), ());
                Ok(())
            }
        }
    }

    /// The session a request works from, or `None` when the provider ended it.
    pub fn resolve(&self, session: Arc<Session>) -> Option<SessionView> {
        let cookie_version = session.version;
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
        settings: Settings<'_>,
    ) -> Result<(String, Decision), TokenError> {
        let leeway = settings.policy.leeway;
        match cache::select(&view.session, need.audience, need.scope, now(), leeway) {
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
        match &self.redis {
            None if self.rotation.load(Ordering::Relaxed) == DOES_NOT_ROTATE => {
                // Nothing to reuse: different needs may be exchanged at once; the same need
                // still shares one exchange.
                let _shared = slot.exchange.read().await;
                let need_lock = slot.need_lock(need);
                let _turn = need_lock.lock().await;
                self.exchange_in_memory(&slot, view, need, settings, waited_since)
                    .await
            }
            None => {
                let _turn = slot.exchange.write().await;
                self.exchange_in_memory(&slot, view, need, settings, waited_since)
                    .await
            }
            Some(store) => {
                let _turn = slot.exchange.write().await;
                let sid = view.session.sid.clone();
                let lock_ttl = settings.provider.timeout + REDIS_LOCK_MARGIN;
                let lock = acquire(
                    store,
                    &sid,
                    lock_ttl,
                    settings.provider.timeout + REDIS_LOCK_WAIT_EXTRA,
                )
                .await?;
                let result = self
                    .exchange_in_redis(
                        store,
                        &slot,
                        view,
                        need,
                        settings,
                        waited_since,
                        &lock,
                        lock_ttl,
                    )
                    .await;
                if let Err(e) = store.unlock(&sid, lock).await {
                    tracing::warn!(error = %e, "could not release the session's refresh lock; it expires by itself");
                }
                result
            }
        }
    }

    /// The cookie store: the latest state is this process's slot. The outcome is applied to the
    /// slot's state *at commit time*, so exchanges that ran in parallel (a provider that does not
    /// rotate) all keep what they added.
    async fn exchange_in_memory(
        &self,
        slot: &SessionSlot,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Result<(String, Decision), TokenError> {
        // Our turn: work from the latest state, never from what we read before waiting.
        let session = match slot.current() {
            SlotState::Ended => return Err(TokenError::SessionExpired),
            SlotState::Live(s) => s,
        };
        view.session = session.clone();
        if let Some(done) = self.reselect(slot, &session, need, settings, waited_since) {
            return done;
        }
        let report = match self.call(&session, need, settings, || async {}).await {
            Ok(r) => r,
            Err(ended) => {
                slot.set(SlotState::Ended);
                return Err(ended);
            }
        };
        let meta = ReportMeta::of(&report);
        let result = {
            let mut state = match slot.state.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            match &*state {
                SlotState::Ended => Err(TokenError::SessionExpired),
                SlotState::Live(current) => {
                    let (next, result) =
                        self.apply(current, need, settings.policy, report.exchange);
                    match next {
                        Next::Keep => {}
                        Next::Ended => *state = SlotState::Ended,
                        Next::Version(next) => {
                            let next = Arc::new(*next);
                            *state = SlotState::Live(next.clone());
                            view.session = next;
                        }
                    }
                    result
                }
            }
        };
        self.finish(slot, need, meta, result)
    }

    /// The redis store: under the Redis lock, the latest state is what Redis holds now.
    #[allow(clippy::too_many_arguments)]
    async fn exchange_in_redis(
        &self,
        store: &RedisStore,
        slot: &SessionSlot,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
        lock: &LockToken,
        lock_ttl: Duration,
    ) -> Result<(String, Decision), TokenError> {
        let sid = view.session.sid.clone();
        let stored = match store.load(settings.keys, &sid).await {
            Err(_) => return Err(TokenError::StoreUnavailable),
            Ok(None) => {
                slot.set(SlotState::Ended);
                return Err(TokenError::SessionExpired);
            }
            Ok(Some(s)) => Arc::new(s),
        };
        // A version this replica obtained but could not store (Redis failed right after the
        // exchange) holds the newest refresh token: store it now, and work from it.
        let session = match slot.current() {
            SlotState::Live(unsaved) if unsaved.version > stored.version => {
                let ttl = settings.lifetime.record_ttl(&unsaved, now());
                if store.save(settings.keys, &unsaved, ttl).await.is_err() {
                    return Err(TokenError::StoreUnavailable);
                }
                tracing::info!("stored a session version kept while Redis was failing");
                unsaved
            }
            _ => stored,
        };
        view.session = session.clone();
        if let Some(done) = self.reselect(slot, &session, need, settings, waited_since) {
            return done;
        }
        let keep_lock = || async {
            if !matches!(store.extend(&sid, lock, lock_ttl).await, Ok(true)) {
                tracing::warn!("the session's refresh lock could not be extended");
            }
        };
        let (next, result, meta) = match self.call(&session, need, settings, keep_lock).await {
            Ok(report) => {
                let meta = ReportMeta::of(&report);
                let (next, result) = self.apply(&session, need, settings.policy, report.exchange);
                (next, result, Some(meta))
            }
            Err(ended) => (Next::Ended, Err(ended), None),
        };
        match next {
            Next::Keep => {}
            Next::Ended => {
                slot.set(SlotState::Ended);
                if let Err(e) = store.delete(&session).await {
                    tracing::warn!(error = %e, "could not delete an ended session from Redis");
                }
            }
            Next::Version(next) => {
                let ttl = settings.lifetime.record_ttl(&next, now());
                // The new version must be stored before the lock is released: a rotated
                // refresh token that is lost makes the next exchange a reuse.
                let mut saved = store.save(settings.keys, &next, ttl).await;
                if saved.is_err() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    saved = store.save(settings.keys, &next, ttl).await;
                }
                let next = Arc::new(*next);
                if let Err(e) = saved {
                    // Keep it here: the next exchange on this replica stores it first, instead
                    // of presenting the refresh token the provider has already consumed.
                    tracing::error!(error = %e, "could not store the session's new version in Redis; kept in memory");
                    slot.set(SlotState::Live(next));
                    return Err(TokenError::StoreUnavailable);
                }
                slot.set(SlotState::Live(next.clone()));
                view.session = next;
            }
        }
        match meta {
            Some(meta) => self.finish(slot, need, meta, result),
            None => result,
        }
    }

    /// After waiting for our turn: another request's result, when it serves this need.
    fn reselect(
        &self,
        slot: &SessionSlot,
        session: &Session,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Option<Result<(String, Decision), TokenError>> {
        match cache::select(
            session,
            need.audience,
            need.scope,
            now(),
            settings.policy.leeway,
        ) {
            Selection::Hit(t) => {
                self.metrics.refresh_coalesced.inc();
                tracing::debug!(route = need.route, "token obtained by a concurrent request");
                return Some(Ok((t.access_token.clone(), Decision::Coalesced)));
            }
            Selection::NarrowGrant { missing } => {
                self.metrics.refresh_coalesced.inc();
                return Some(Err(TokenError::InsufficientScope { missing }));
            }
            Selection::Miss => {}
        }
        if let Some(err) = shared_failure(slot, need, waited_since) {
            self.metrics.refresh_coalesced.inc();
            return Some(Err(err));
        }
        None
    }

    /// One token-endpoint call with the session's refresh token (metrics included).
    /// `heartbeat` runs periodically while the call is in flight (the Redis lock). `Err`: the
    /// session has no refresh token, so it is over.
    async fn call<F, Fut>(
        &self,
        session: &Session,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        heartbeat: F,
    ) -> Result<ExchangeReport, TokenError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Some(refresh_token) = session.refresh_token.as_deref() else {
            self.metrics
                .sessions_cleared
                .with_label_values(&["no_refresh_token"])
                .inc();
            return Err(TokenError::SessionExpired);
        };
        let call = self
            .client
            .refresh(settings.provider, refresh_token, need.audience, need.scope);
        tokio::pin!(call);
        let beat_every = (settings.provider.timeout / 3).max(Duration::from_millis(200));
        let report = loop {
            tokio::select! {
                r = &mut call => break r,
                _ = tokio::time::sleep(beat_every) => heartbeat().await,
            }
        };
        self.metrics
            .token_duration
            .with_label_values(&[need.route])
            .observe(report.elapsed.as_secs_f64());
        self.metrics
            .token_requests
            .with_label_values(&[need.route, outcome_label(&report.exchange)])
            .inc();
        self.learn_rotation(refresh_token, &report.exchange);
        Ok(report)
    }

    /// Logs the outcome and shares a failure with the requests waiting for the same need.
    fn finish(
        &self,
        slot: &SessionSlot,
        need: TokenNeed<'_>,
        meta: ReportMeta,
        result: Result<(String, Decision), TokenError>,
    ) -> Result<(String, Decision), TokenError> {
        let e = match result {
            Ok(ok) => {
                tracing::info!(route = need.route, audience = need.audience.unwrap_or(""), scope = %need.scope, "token obtained");
                return Ok(ok);
            }
            Err(TokenError::Unavailable { .. }) => TokenError::Unavailable {
                retry_after: meta
                    .retry_after
                    .map(|s| s.clamp(1, 300))
                    .unwrap_or(DEFAULT_RETRY_AFTER),
            },
            Err(other) => other,
        };
        tracing::warn!(
            route = need.route,
            audience = need.audience.unwrap_or(""),
            error = e.code(),
            detail = meta.transport_error.as_deref().unwrap_or(meta.outcome),
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
        Err(e)
    }

    /// Whether the provider rotates refresh tokens, as far as answers have shown. One rotating
    /// answer makes it "rotates" for good (parallel exchanges would then be reuse).
    fn learn_rotation(&self, presented: &str, exchange: &Exchange) {
        if let Exchange::Success { refresh_token, .. } = exchange {
            let rotated = refresh_token.as_deref().is_some_and(|rt| rt != presented);
            if rotated {
                self.rotation.store(ROTATES, Ordering::Relaxed);
            } else {
                let _ = self.rotation.compare_exchange(
                    UNKNOWN,
                    DOES_NOT_ROTATE,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
    }

    /// What an exchange's outcome makes of the session, and the request's answer.
    fn apply(
        &self,
        session: &Session,
        need: TokenNeed<'_>,
        policy: TokenPolicy,
        exchange: Exchange,
    ) -> (Next, Result<(String, Decision), TokenError>) {
        // Whatever else happens, a rotated refresh token is kept: dropping it would make the next
        // exchange a reuse.
        let keep_rotated = |rotated: Option<String>| match rotated {
            Some(rt) => {
                let mut next = session.clone();
                next.refresh_token = Some(rt);
                next.version = session.version + 1;
                Next::Version(Box::new(next))
            }
            None => Next::Keep,
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
                let result = if covers {
                    Ok((access_token, Decision::Refreshed))
                } else {
                    Err(TokenError::InsufficientScope { missing })
                };
                (Next::Version(Box::new(next)), result)
            }
            Exchange::InvalidGrant => {
                self.metrics
                    .sessions_cleared
                    .with_label_values(&["invalid_grant"])
                    .inc();
                (Next::Ended, Err(TokenError::SessionExpired))
            }
            Exchange::Unavailable { .. } => (
                Next::Keep,
                Err(TokenError::Unavailable {
                    retry_after: DEFAULT_RETRY_AFTER,
                }),
            ),
            Exchange::Denied {
                code,
                refresh_token,
            } => (
                keep_rotated(refresh_token),
                Err(TokenError::Denied { code }),
            ),
            Exchange::InvalidResponse { refresh_token, .. } => (
                keep_rotated(refresh_token),
                Err(TokenError::InvalidResponse),
            ),
            Exchange::AudienceMismatch { refresh_token } => (
                keep_rotated(refresh_token),
                Err(TokenError::AudienceMismatch),
            ),
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
            // In Redis the cookie is only a reference: it never changes.
            SlotState::Live(_) if self.redis.is_some() => CookieUpdate::Unchanged,
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
                    exchange: tokio::sync::RwLock::new(()),
                    per_need: Mutex::new(HashMap::new()),
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

/// What `finish` needs of a report after its exchange was applied.
struct ReportMeta {
    retry_after: Option<u64>,
    transport_error: Option<String>,
    outcome: &'static str,
}

impl ReportMeta {
    fn of(r: &ExchangeReport) -> Self {
        ReportMeta {
            retry_after: r.retry_after,
            transport_error: r.transport_error.clone(),
            outcome: outcome_label(&r.exchange),
        }
    }
}

const UNKNOWN: u8 = 0;
const ROTATES: u8 = 1;
const DOES_NOT_ROTATE: u8 = 2;

/// What an exchange makes of the session.
enum Next {
    /// Nothing changed.
    Keep,
    /// A new version to store.
    Version(Box<Session>),
    /// The provider ended the session.
    Ended,
}

/// Takes the session's Redis lock, waiting (bounded) while another replica holds it.
async fn acquire(
    store: &RedisStore,
    sid: &str,
    ttl: Duration,
    wait: Duration,
) -> Result<LockToken, TokenError> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(10);
    loop {
        match store.try_lock(sid, ttl).await {
            Ok(Some(lock)) => return Ok(lock),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Ok(None) => return Err(TokenError::Busy),
            Err(e) => {
                tracing::warn!(error = %e, "session store unavailable while taking the refresh lock");
                return Err(TokenError::StoreUnavailable);
            }
        }
    }
}
