//! The Redis session store (`session.store: redis`). The cookie then holds only an encrypted
//! session id; the session itself is a Redis record sealed with the session keys (a dump of Redis
//! reveals no token), expiring with the absolute lifetime and the idle timeout. Replicas sharing
//! the Redis coordinate token exchanges through a per-session lock with an owner token.
//!
//! Every call is bounded in time: a Redis that does not answer is a `StoreError`, which the proxy
//! answers with `503 session_store_unavailable` — never a hang, never a 500.

use super::codec::KeyRing;
use super::model::Session;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Time limit of one Redis command.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(1000);
const PREFIX: &str = "tokengate";

#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct StoreError(String);

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        // The error's text can carry the URL (with a password) on connection failures; keep
        // only its kind.
        StoreError(format!("{:?}", e.kind()))
    }
}

/// A held refresh lock; release it with [`RedisStore::unlock`].
#[derive(Debug)]
pub struct LockToken(String);

pub struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
}

/// Sets a key's time-to-live unless it already lives longer. An index set (`sub`, `psid`) serves
/// every session in it, so it must outlive the longest of them, not the one written last —
/// otherwise back-channel logout misses the others. (Portable: `EXPIRE .. GT` needs Redis 7.)
const EXTEND_EXPIRY: &str = "local t = redis.call('TTL', KEYS[1]) \
    if t >= tonumber(ARGV[1]) then return 0 end \
    return redis.call('EXPIRE', KEYS[1], ARGV[1])";

/// Replaces a record only while it exists.
const SET_IF_EXISTS: &str = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end \
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1";

fn session_key(sid: &str) -> String {
    format!("{PREFIX}:session:{sid}")
}
fn lock_key(sid: &str) -> String {
    format!("{PREFIX}:lock:{sid}")
}
fn index_key(kind: &str, value: &str) -> String {
    format!("{PREFIX}:{kind}:{value}")
}
/// A record is sealed for its own key, so records cannot be swapped between sessions.
fn record_purpose(sid: &str) -> String {
    format!("redis:{sid}")
}

impl RedisStore {
    /// Parses the URL; connects lazily (a Redis that is down at start-up only makes the gateway
    /// not ready, and it recovers by itself).
    pub fn new(url: &str) -> Result<RedisStore, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("session.redis_url: {:?}", e.kind()))?;
        Ok(RedisStore {
            client,
            conn: OnceCell::new(),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(COMMAND_TIMEOUT))
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(conn.clone())
    }

    /// Runs one command with the time limit.
    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(StoreError("timeout".into())),
        }
    }

    pub async fn ping(&self) -> bool {
        let Ok(mut c) = self.conn().await else {
            return false;
        };
        let r: Result<String, _> = self.bounded(redis::cmd("PING").query_async(&mut c)).await;
        r.is_ok()
    }

    /// The session `sid`, or `None` when it does not exist (expired, logged out) or cannot be
    /// opened (written with a key no longer configured).
    pub async fn load(&self, keys: &KeyRing, sid: &str) -> Result<Option<Session>, StoreError> {
        let mut c = self.conn().await?;
        let raw: Option<String> = self.bounded(c.get(session_key(sid))).await?;
        Ok(raw.and_then(|v| keys.open_session(&record_purpose(sid), &v).ok()))
    }

    /// Writes the session with a time-to-live, and indexes it by the provider's `sid` and the
    /// user's `sub` for back-channel logout.
    pub async fn save(&self, keys: &KeyRing, s: &Session, ttl: Duration) -> Result<(), StoreError> {
        let sealed = keys
            .seal_session(&record_purpose(&s.sid), s)
            .map_err(|e| StoreError(format!("seal: {e}")))?;
        let ttl_secs = ttl.as_secs().max(1);
        let mut c = self.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_ex(session_key(&s.sid), sealed, ttl_secs)
            .ignore();
        for (kind, value) in index_entries(s) {
            let k = index_key(kind, &value);
            pipe.sadd(&k, &s.sid).ignore();
            extend_expiry(&mut pipe, &k, ttl_secs);
        }
        self.bounded(pipe.query_async::<()>(&mut c)).await
    }

    /// Writes a new version of an *existing* session, like [`RedisStore::save`]; `Ok(false)`
    /// when the record is gone (a logout, a back-channel logout or its expiry ended the session
    /// meanwhile), and then nothing is written: a write after an exchange must never bring an
    /// ended session back. The check and the write are one Lua script, so no delete can land
    /// between them.
    pub async fn update(
        &self,
        keys: &KeyRing,
        s: &Session,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let sealed = keys
            .seal_session(&record_purpose(&s.sid), s)
            .map_err(|e| StoreError(format!("seal: {e}")))?;
        let ttl_secs = ttl.as_secs().max(1);
        let mut c = self.conn().await?;
        let written: i64 = self
            .bounded(
                redis::Script::new(SET_IF_EXISTS)
                    .key(session_key(&s.sid))
                    .arg(sealed)
                    .arg(ttl_secs)
                    .invoke_async(&mut c),
            )
            .await?;
        if written != 1 {
            return Ok(false);
        }
        let mut pipe = redis::pipe();
        for (kind, value) in index_entries(s) {
            let k = index_key(kind, &value);
            pipe.sadd(&k, &s.sid).ignore();
            extend_expiry(&mut pipe, &k, ttl_secs);
        }
        self.bounded(pipe.query_async::<()>(&mut c)).await?;
        Ok(true)
    }

    /// Extends the record's life (idle timeout) without rewriting it, so a touch can never
    /// overwrite a refresh token another replica just stored. Its index entries are extended
    /// with it, so back-channel logout still finds it.
    pub async fn touch(&self, s: &Session, ttl: Duration) -> Result<(), StoreError> {
        let ttl_secs = ttl.as_secs().max(1);
        let mut c = self.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .expire(session_key(&s.sid), ttl_secs as i64)
            .ignore();
        for (kind, value) in index_entries(s) {
            extend_expiry(&mut pipe, &index_key(kind, &value), ttl_secs);
        }
        self.bounded(pipe.query_async::<()>(&mut c)).await
    }

    pub async fn delete(&self, s: &Session) -> Result<(), StoreError> {
        let mut c = self.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic().del(session_key(&s.sid)).ignore();
        for (kind, value) in index_entries(s) {
            pipe.srem(index_key(kind, &value), &s.sid).ignore();
        }
        self.bounded(pipe.query_async::<()>(&mut c)).await
    }

    /// Session ids of the provider session `sid`, or else of the user `sub` (back-channel logout).
    pub async fn find(
        &self,
        provider_sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn().await?;
        let key = match (provider_sid, sub) {
            (Some(sid), _) => index_key("psid", sid),
            (None, Some(sub)) => index_key("sub", sub),
            (None, None) => return Ok(Vec::new()),
        };
        self.bounded(c.smembers(key)).await
    }

    /// Deletes sessions by id (back-channel logout), with their index entries left to expire.
    pub async fn delete_ids(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut c = self.conn().await?;
        let keys: Vec<String> = ids.iter().map(|i| session_key(i)).collect();
        self.bounded(c.del::<_, ()>(keys)).await
    }

    /// Tries once to take the refresh lock of `sid` for `ttl`.
    pub async fn try_lock(
        &self,
        sid: &str,
        ttl: Duration,
    ) -> Result<Option<LockToken>, StoreError> {
        let token = super::model::new_session_id();
        let mut c = self.conn().await?;
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ttl.as_millis() as u64));
        let ok: Option<String> = self
            .bounded(c.set_options(lock_key(sid), &token, opts))
            .await?;
        Ok(ok.map(|_| LockToken(token)))
    }

    /// Extends a held lock; false when it was lost (expired and taken by another replica).
    pub async fn extend(
        &self,
        sid: &str,
        lock: &LockToken,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let script = redis::Script::new(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
        );
        let mut c = self.conn().await?;
        let n: i64 = self
            .bounded(
                script
                    .key(lock_key(sid))
                    .arg(&lock.0)
                    .arg(ttl.as_millis() as u64)
                    .invoke_async(&mut c),
            )
            .await?;
        Ok(n == 1)
    }

    /// Releases a lock only if this owner still holds it (compare-and-delete).
    pub async fn unlock(&self, sid: &str, lock: LockToken) -> Result<(), StoreError> {
        let script = redis::Script::new(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        );
        let mut c = self.conn().await?;
        self.bounded(
            script
                .key(lock_key(sid))
                .arg(&lock.0)
                .invoke_async::<i64>(&mut c),
        )
        .await
        .map(|_| ())
    }
}

fn extend_expiry(pipe: &mut redis::Pipeline, key: &str, ttl_secs: u64) {
    pipe.cmd("EVAL")
        .arg(EXTEND_EXPIRY)
        .arg(1)
        .arg(key)
        .arg(ttl_secs)
        .ignore();
}

fn index_entries(s: &Session) -> Vec<(&'static str, String)> {
    let mut v = vec![("sub", s.user.sub.clone())];
    if let Some(psid) = &s.user.sid {
        v.push(("psid", psid.clone()));
    }
    v
}

/// The cookie purpose of a session *reference* (redis mode), distinct from a whole session's so a
/// cookie of one mode never opens as the other.
pub fn reference_purpose(cookie_name: &str) -> String {
    format!("{cookie_name}:ref")
}
