//! The exchange with `store: redis`, where replicas share the session: after the local turn, the
//! replica takes the session's Redis lock (owner token, expiry, extended by a heartbeat while the
//! exchange runs), reads the session *again from Redis*, and writes the new version back before
//! releasing the lock. A version that could not be written (Redis failed right after the
//! exchange) stays in the local slot and is written first by the next exchange on this replica,
//! instead of its refresh token being presented again.

use super::exchange::ReportMeta;
use super::identity;
use super::slot::{SessionSlot, SlotState};
use super::transition::{self, Answer, Next};
use super::{Broker, SessionView, Settings, TokenNeed};
use crate::session::model::{now, Session};
use crate::session::store::{LockToken, RedisStore};
use crate::tokens::TokenError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a request waits for another replica's exchange beyond the exchange's own time limit
/// before answering `503 session_busy`.
const LOCK_WAIT_EXTRA: Duration = Duration::from_secs(5);
/// The Redis lock outlives the exchange's own time limit by this much.
const LOCK_MARGIN: Duration = Duration::from_secs(5);

impl Broker {
    /// One exchange for `need` under the session's Redis lock (the local turn already held).
    pub(super) async fn exchange_with_redis_lock(
        &self,
        store: &RedisStore,
        slot: &SessionSlot,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Answer {
        let sid = view.session.sid.clone();
        let lock_ttl = settings.provider.timeout + LOCK_MARGIN;
        let wait = settings.provider.timeout + LOCK_WAIT_EXTRA;
        let lock = acquire(store, &sid, lock_ttl, wait).await?;
        let turn = RedisTurn {
            store,
            lock: &lock,
            lock_ttl,
        };
        let answer = self
            .exchange_in_redis(&turn, slot, view, need, settings, waited_since)
            .await;
        if let Err(e) = store.unlock(&sid, lock).await {
            tracing::warn!(error = %e, "could not release the session's refresh lock; it expires by itself");
        }
        answer
    }

    /// Under the Redis lock, the latest state is what Redis holds now.
    async fn exchange_in_redis(
        &self,
        turn: &RedisTurn<'_>,
        slot: &SessionSlot,
        view: &mut SessionView,
        need: TokenNeed<'_>,
        settings: Settings<'_>,
        waited_since: Instant,
    ) -> Answer {
        let session = self
            .latest_in_redis(turn.store, slot, view, settings)
            .await?;
        view.session = session.clone();
        if let Some(done) = self.reselect(slot, &session, need, settings, waited_since) {
            return done;
        }
        let sid = &session.sid;
        let keep_lock = || async {
            if !matches!(
                turn.store.extend(sid, turn.lock, turn.lock_ttl).await,
                Ok(true)
            ) {
                tracing::warn!("the session's refresh lock could not be extended");
            }
        };
        let (next, answer, meta) = match self.call(&session, need, settings, keep_lock).await {
            Ok(report) => {
                let meta = ReportMeta::of(&report);
                let (mut next, answer) =
                    transition::apply(&session, need, settings.policy, report.exchange, now());
                if let Next::Version(next) = &mut next {
                    identity::refresh_claims(settings.claims, &session, next).await;
                }
                (next, answer, Some(meta))
            }
            Err(TokenError::SessionExpired) => (Next::Ended, Err(TokenError::SessionExpired), None),
            Err(kept) => (Next::Keep, Err(kept), None),
        };
        self.commit_to_redis(turn.store, slot, view, &session, next, settings)
            .await?;
        match meta {
            Some(meta) => self.finish(slot, need, meta, answer),
            None => answer,
        }
    }

    /// The session as Redis holds it, or the newer version this replica could not store yet
    /// (stored now). `Err`: Redis failed, or the session is gone.
    async fn latest_in_redis(
        &self,
        store: &RedisStore,
        slot: &SessionSlot,
        view: &SessionView,
        settings: Settings<'_>,
    ) -> Result<Arc<Session>, TokenError> {
        let stored = match store.load(settings.keys, &view.session.sid).await {
            Err(_) => return Err(TokenError::StoreUnavailable),
            Ok(None) => {
                slot.set(SlotState::Ended);
                return Err(TokenError::SessionExpired);
            }
            Ok(Some(s)) => Arc::new(s),
        };
        match slot.current() {
            SlotState::Live(unsaved) if unsaved.version > stored.version => {
                let ttl = settings.lifetime.record_ttl(&unsaved, now());
                match store.update(settings.keys, &unsaved, ttl).await {
                    Err(_) => return Err(TokenError::StoreUnavailable),
                    Ok(false) => {
                        slot.set(SlotState::Ended);
                        return Err(TokenError::SessionExpired);
                    }
                    Ok(true) => {}
                }
                slot.acknowledge(unsaved.version);
                tracing::info!("stored a session version kept while Redis was failing");
                Ok(unsaved)
            }
            _ => Ok(stored),
        }
    }

    /// Stores what the exchange made of the session, before the lock is released: a rotated
    /// refresh token that is lost makes the next exchange a reuse.
    async fn commit_to_redis(
        &self,
        store: &RedisStore,
        slot: &SessionSlot,
        view: &mut SessionView,
        session: &Session,
        next: Next,
        settings: Settings<'_>,
    ) -> Result<(), TokenError> {
        match next {
            Next::Keep => Ok(()),
            Next::Ended => {
                slot.set(SlotState::Ended);
                if let Err(e) = store.delete(session).await {
                    tracing::warn!(error = %e, "could not delete an ended session from Redis");
                }
                Ok(())
            }
            Next::Version(next) => {
                let ttl = settings.lifetime.record_ttl(&next, now());
                // Only over an existing record: a logout that landed during the exchange stays.
                let mut saved = store.update(settings.keys, &next, ttl).await;
                if saved.is_err() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    saved = store.update(settings.keys, &next, ttl).await;
                }
                let next = Arc::new(*next);
                match saved {
                    Ok(true) if slot.replace_live(next.clone()) => {
                        slot.acknowledge(next.version);
                        view.session = next;
                        Ok(())
                    }
                    Ok(_) => {
                        slot.set(SlotState::Ended);
                        tracing::info!("the session ended during its token exchange; the exchange's result is discarded");
                        Err(TokenError::SessionExpired)
                    }
                    Err(e) => {
                        // Kept in the slot: the next exchange on this replica stores it first.
                        slot.replace_live(next);
                        tracing::error!(error = %e, "could not store the session's new version in Redis; kept in memory");
                        Err(TokenError::StoreUnavailable)
                    }
                }
            }
        }
    }
}

/// The Redis lock this replica holds for one exchange.
struct RedisTurn<'a> {
    store: &'a RedisStore,
    lock: &'a LockToken,
    lock_ttl: Duration,
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
