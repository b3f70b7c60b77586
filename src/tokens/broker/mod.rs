//! Per-session coordination of token exchanges: the hard part of a token gateway.
//!
//! A browser sends many requests at once with the same cookie, and learns about a rotated refresh
//! token only when a response reaches it. So the broker keeps, per session id, the latest state
//! this process produced (`latest`, a bounded map of `slot`s) and every request works from the
//! newer of its cookie and that state:
//!
//! 1. [`Broker::resolve`]: the cookie's session, or the newer latest state for its id.
//! 2. [`Broker::token_for`]: `cache::select` → hit: done, no lock.
//! 3. Miss: take the session's exchange lock, *re-read* the latest state (another request may have
//!    fetched the token, or rotated the refresh token, while we waited), select again, and only
//!    then call the token endpoint with the latest refresh token (`exchange`). What the answer
//!    makes of the session is a pure function (`transition`); the result is a new version,
//!    committed to the slot (`memory`, the cookie store) or to Redis (`redis`).
//! 4. [`Broker::cookie_for_response`]: the response carries the latest state at the time it is
//!    sent, so no response drops a token a concurrent response added.
//!
//! Only sessions that changed in this process are in the map; a request whose cookie is current
//! costs one map lookup. Whether exchanges of one session may overlap is `rotation`'s question (the
//! operator's declaration, never learned).
//!
//! With `store: redis` the session lives in Redis and the same steps hold across replicas
//! (`redis`: a Redis lock per session, the session read again from Redis under it).

mod exchange;
mod fitting;
mod identity;
mod latest;
mod memory;
mod redis;
mod rotation;
mod slot;
mod transition;

pub use identity::ClaimsUpdater;
pub use rotation::Rotation;

use super::cache::{self, Selection};
use super::client::TokenClient;
use super::grant::Via;
use super::scope::Scope;
use super::{Decision, TokenError};
use crate::config::ProviderConfig;
use crate::metrics::Metrics;
use crate::session::codec::{CodecError, KeyRing};
use crate::session::cookie::budget::CookieBudget;
use crate::session::lifetime::Lifetime;
use crate::session::model::{now, Session};
use crate::session::store::{RedisStore, StoreError};
use latest::{Full, LatestMap};
use slot::{SessionSlot, SlotState};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How stale a token's recorded last use may be before a hit records it again (seconds): the
/// least-recently-used order of `tokens.max_cached` is coarse by this much, and a busy token
/// costs one new cookie per this period.
const USE_GRANULARITY: u64 = 60;
/// How many Redis sessions' idle-timeout touches are remembered (at most one a minute each).
const TOUCHED_MAX_SESSIONS: u64 = 200_000;

/// What one route needs.
#[derive(Clone, Copy, Debug)]
pub struct TokenNeed<'a> {
    pub route: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a Scope,
    /// The grant that obtains it (`grant::exchange` builds the token-exchange needs).
    pub via: Via<'a>,
}

/// The token-selection settings of `tokens:`.
#[derive(Clone, Copy, Debug)]
pub struct TokenPolicy {
    pub leeway: u64,
    pub max_cached: usize,
    /// The latest-state map's bound in bytes (`tokens.latest_state_max_bytes`).
    pub latest_max_bytes: u64,
    /// What a session cookie may hold (`limits:`), every new version fitted to it; `None` with
    /// `store: redis`, whose cookie holds only the session id.
    pub cookie: Option<CookieBudget>,
}

/// What an exchange needs from the current config.
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    pub policy: TokenPolicy,
    pub provider: &'a ProviderConfig,
    pub keys: &'a KeyRing,
    pub lifetime: &'a Lifetime,
    /// With `store: redis`, when the config uses claims: reads a refresh's new ID token into
    /// the claims written with the rotated refresh token (`identity`).
    pub claims: Option<&'a dyn ClaimsUpdater>,
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
    latest: LatestMap,
    client: TokenClient,
    metrics: Arc<Metrics>,
    redis: Option<RedisStore>,
    /// Redis sessions whose expiry was moved recently (idle timeout), so a busy session does
    /// not cost a Redis write per request.
    touched: moka::sync::Cache<String, ()>,
}

impl Broker {
    /// `redis`: the shared store, or `None` for the cookie store.
    pub fn new(client: TokenClient, metrics: Arc<Metrics>, redis: Option<RedisStore>) -> Self {
        Broker {
            latest: LatestMap::new(),
            client,
            metrics,
            redis,
            touched: moka::sync::Cache::builder()
                .max_capacity(TOUCHED_MAX_SESSIONS)
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
    /// The new version is pruned like every write (`docs/reference.md#session-size`).
    pub async fn touch(
        &self,
        view: &mut SessionView,
        lifetime: &Lifetime,
        policy: TokenPolicy,
    ) -> Result<(), StoreError> {
        let t = now();
        match &self.redis {
            None => {
                self.update(view, policy, None, |s| {
                    s.last_seen = t;
                    cache::prune(s, t, policy.leeway, policy.max_cached);
                });
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

    /// The request's slot, entered into the latest-state map if it has none yet. `Err(Full)`:
    /// the map is full of slots it must keep (counted and logged here).
    fn slot_for(&self, view: &mut SessionView) -> Result<Arc<SessionSlot>, Full> {
        if let Some(slot) = &view.slot {
            return Ok(slot.clone());
        }
        let initial = view.session.clone();
        let slot = self
            .latest
            .get_or_insert(&view.session.sid, || {
                SessionSlot::new(SlotState::Live(initial))
            })
            .inspect_err(|_| {
                self.event("latest_full");
                tracing::warn!(
                    bytes = self.latest.bytes(),
                    "the latest-state map is full of sessions it must keep; the request waits (503 session_busy); raise tokens.latest_state_max_bytes"
                );
            })?;
        slot.observe(&view.session);
        view.slot = Some(slot.clone());
        Ok(slot)
    }

    /// Records that the token `need` hits was used now, for `tokens.max_cached`'s least
    /// recently used eviction: a new version, so the cookie carries it (at most once per
    /// [`USE_GRANULARITY`] and token, so a hit does not cost a seal each time). The primary is
    /// never evicted, so its use is not recorded.
    fn mark_used(&self, view: &mut SessionView, need: TokenNeed<'_>, policy: TokenPolicy) {
        let t = now();
        let leeway = policy.leeway;
        let extra = !cache::is_primary_hit(&view.session, need.audience, need.scope, t, leeway);
        if extra {
            self.update(view, policy, Some(need), |s| {
                cache::touch(s, need.audience, need.scope, t, leeway);
            });
        }
    }

    /// Counts one event of `tokengate_broker_events_total`.
    fn event(&self, event: &str) {
        self.metrics.broker_events.with_label_values(&[event]).inc();
    }

    /// Applies a change that is not a token exchange (e.g. the idle-timeout `last_seen`), as a
    /// new version fitted to the cookie's limits (`keep`: the need whose token stays).
    /// When the latest-state map is full, the change is skipped (it is tried again on the next
    /// request).
    pub fn update(
        &self,
        view: &mut SessionView,
        policy: TokenPolicy,
        keep: Option<TokenNeed<'_>>,
        change: impl FnOnce(&mut Session),
    ) {
        let Ok(slot) = self.slot_for(view) else {
            return;
        };
        slot.with_state(|state| {
            if let SlotState::Live(cur) = &*state {
                let mut next = (**cur).clone();
                change(&mut next);
                self.fit_cookie(&mut next, policy, keep);
                next.version = cur.version + 1;
                let next = Arc::new(next);
                *state = SlotState::Live(next.clone());
                view.session = next;
            }
        });
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
        let hit = |result: &str| self.metrics.token_cache.with_label_values(&[result]).inc();
        match exchange::select(&view.session, need, now(), leeway) {
            Selection::Hit(t) => {
                hit("hit");
                let token = t.access_token.clone();
                if self.redis.is_none() && t.last_used + USE_GRANULARITY <= now() {
                    self.mark_used(view, need, settings.policy);
                }
                return Ok((token, Decision::Hit));
            }
            Selection::NarrowGrant { missing } => {
                hit("hit");
                return Err(TokenError::InsufficientScope { missing });
            }
            Selection::Miss => hit("miss"),
        }
        self.latest.set_bound(settings.policy.latest_max_bytes);
        let slot = self.slot_for(view).map_err(|_| TokenError::Busy)?;
        let waited_since = Instant::now();
        match &self.redis {
            None if Rotation::declared(settings.provider.rotates_refresh_tokens)
                .allows_overlap() =>
            {
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
                self.exchange_with_redis_lock(store, &slot, view, need, settings, waited_since)
                    .await
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
            // In Redis the cookie is only a reference: it never changes.
            SlotState::Live(_) if self.redis.is_some() => CookieUpdate::Unchanged,
            SlotState::Live(s) if s.version == view.cookie_version => CookieUpdate::Unchanged,
            SlotState::Live(s) => match slot.sealed(&s, seal) {
                Ok(value) => CookieUpdate::Write(value),
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
            },
        }
    }

    /// Ends a session (logout): every copy of its cookie this process sees afterwards is dead,
    /// for as long as the latest-state map remembers the id.
    pub fn end(&self, sid: &str) {
        match self.latest.get(sid) {
            Some(slot) => slot.set(SlotState::Ended),
            None => {
                if self
                    .latest
                    .insert_anyway(sid, SessionSlot::new(SlotState::Ended))
                {
                    self.event("latest_over_bound");
                    tracing::warn!(
                        bytes = self.latest.bytes(),
                        "the latest-state map is full of sessions it must keep; a logout was remembered beyond its bound"
                    );
                }
            }
        }
    }

    /// Number of sessions in the latest-state map (for benchmarks and metrics).
    pub fn latest_len(&self) -> u64 {
        self.latest.len()
    }
}
