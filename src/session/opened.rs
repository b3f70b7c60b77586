//! Sessions already opened, by the sealed cookie value they came from.
//!
//! A browser sends the same session cookie on every request until the session changes, and
//! opening it (base64, AES-256-GCM, JSON of a few kilobytes, then freeing it) was the largest
//! cost of tokengate's own code on the cache-hit path (BENCHMARKS.md, "Profile of the cache-hit
//! path"). A sealed value always opens to the same session, so the decoded session can be shared.
//!
//! What keeps this safe:
//! - the key is the *whole* sealed value, compared byte for byte: a cookie differing anywhere
//!   (even one that hashes alike) is a different entry and goes through the codec;
//! - only values that opened are stored, so garbage cookies cannot fill the cache;
//! - the cache belongs to one loaded config (`app::Loaded`): a reload, and with it any change of
//!   `session.keys`, starts empty, so a key taken out of the ring stops opening cookies at once;
//! - the caller still checks the session's lifetime on every request.

use crate::session::codec::{CodecError, KeyRing};
use crate::session::model::Session;
use moka::sync::Cache;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// Memory bound of the cache. Each entry holds its sealed value and the decoded session (about
/// 7 KB for a session with one token set and an ID token): some 9 000 sessions active within
/// [`IDLE`]. A session evicted is simply opened again.
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// An entry not used for this long is dropped (an idle browser's next request opens it again).
const IDLE: Duration = Duration::from_secs(120);
/// Bytes of the sealed value's end that are hashed: the base64 of the AES-GCM tag, which is
/// uniformly random, so hashing the whole 3 KB value would buy nothing but time.
const HASHED_TAIL: usize = 32;

/// A sealed cookie value as a cache key: equal only to the same bytes, hashed on its tail.
#[derive(Clone, PartialEq, Eq)]
struct Sealed(Box<str>);

impl Hash for Sealed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let bytes = self.0.as_bytes();
        bytes[bytes.len().saturating_sub(HASHED_TAIL)..].hash(state);
    }
}

/// The purpose (cookie name) a value was opened for, kept to refuse it for any other.
type Entry = (Arc<str>, Arc<Session>);

pub struct OpenedSessions {
    /// `None`: open every value (see [`OpenedSessions::uncached`]).
    cache: Option<Cache<Sealed, Entry>>,
}

impl OpenedSessions {
    pub fn new() -> OpenedSessions {
        OpenedSessions::with_capacity(MAX_BYTES)
    }

    /// Opens every value, keeping nothing: what the hit path costs for a cookie seen for the
    /// first time (`benches/hit_path.rs` compares both).
    pub fn uncached() -> OpenedSessions {
        OpenedSessions { cache: None }
    }

    fn with_capacity(max_bytes: u64) -> OpenedSessions {
        OpenedSessions {
            cache: Some(
                Cache::builder()
                    .max_capacity(max_bytes)
                    .weigher(|k: &Sealed, _: &Entry| weight(&k.0))
                    .time_to_idle(IDLE)
                    .build(),
            ),
        }
    }

    /// The session sealed in `sealed` for `purpose`, opened once and then shared.
    pub fn open(
        &self,
        keys: &KeyRing,
        purpose: &str,
        sealed: String,
    ) -> Result<Arc<Session>, CodecError> {
        let Some(cache) = &self.cache else {
            return keys.open_session(purpose, &sealed).map(Arc::new);
        };
        let key = Sealed(sealed.into_boxed_str());
        match cache.get(&key) {
            Some((opened_for, session)) if *opened_for == *purpose => return Ok(session),
            _ => {}
        }
        let session = Arc::new(keys.open_session(purpose, &key.0)?);
        cache.insert(key, (Arc::from(purpose), session.clone()));
        Ok(session)
    }

    /// Drops every entry (the config this cache belongs to was replaced).
    pub fn clear(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
            cache.run_pending_tasks();
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        let cache = self.cache.as_ref().expect("a caching instance");
        cache.run_pending_tasks();
        cache.entry_count()
    }
}

impl Default for OpenedSessions {
    fn default() -> Self {
        OpenedSessions::new()
    }
}

/// Approximate bytes of one entry: the sealed value, and the decoded session's strings (the
/// sealed JSON is about 4/3 of them) plus the structures around them.
fn weight(sealed: &str) -> u32 {
    u32::try_from(sealed.len() * 2 + 512).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
