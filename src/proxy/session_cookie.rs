//! Reading the session from a request's `Cookie` headers and writing it back as `Set-Cookie`.
//! Every way a cookie can be unusable ends in [`CookieSession::Unusable`] with a reason for the
//! metric — never in an error that could become a 5xx.

use crate::session::codec::{join_chunks, KeyRing};
use crate::session::cookies::{self, CookieAttrs};
use crate::session::lifetime::Lifetime;
use crate::session::model::{Session, UnixSeconds};
use crate::session::opened::OpenedSessions;
use crate::session::store::reference_purpose;
use http::HeaderMap;
use std::sync::Arc;

#[derive(Debug)]
pub enum CookieSession {
    Absent,
    Unusable {
        reason: &'static str,
        chunks: Vec<usize>,
    },
    Valid {
        /// Shared with the cache of opened sessions (`session::opened`).
        session: Arc<Session>,
        chunks: Vec<usize>,
    },
    /// `store: redis`: the cookie names a session held in Redis.
    Reference {
        sid: String,
        chunks: Vec<usize>,
    },
}

impl CookieSession {
    /// The chunk indices the request carried (to clear stale ones when writing).
    pub fn chunks(&self) -> &[usize] {
        match self {
            CookieSession::Absent => &[],
            CookieSession::Unusable { chunks, .. }
            | CookieSession::Valid { chunks, .. }
            | CookieSession::Reference { chunks, .. } => chunks,
        }
    }
}

/// Finds, joins, opens and checks the session cookie `name`. With `reference` (the redis store)
/// the cookie holds only a session id.
pub fn read(
    headers: &HeaderMap,
    name: &str,
    keys: &KeyRing,
    opened: &OpenedSessions,
    lifetime: &Lifetime,
    now: UnixSeconds,
    reference: bool,
) -> CookieSession {
    let pairs: Vec<(&str, &str)> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookies::parse_cookie_header)
        .collect();
    let mut chunks: Vec<usize> = pairs
        .iter()
        .filter_map(|(n, _)| cookies::chunk_index(name, n))
        .collect();
    chunks.sort_unstable();
    chunks.dedup();
    if chunks.is_empty() {
        return CookieSession::Absent;
    }
    let joined = match join_chunks(name, pairs.iter().copied()) {
        Ok(Some(v)) => v,
        // Only `NAME.k` chunks without `NAME`: leftovers to clear.
        Ok(None) => {
            return CookieSession::Unusable {
                reason: "malformed",
                chunks,
            }
        }
        Err(e) => {
            return CookieSession::Unusable {
                reason: e.reason(),
                chunks,
            }
        }
    };
    if reference {
        return match keys.open(&reference_purpose(name), &joined) {
            Err(e) => CookieSession::Unusable {
                reason: e.reason(),
                chunks,
            },
            Ok(raw) => match String::from_utf8(raw) {
                Ok(sid) if plausible_sid(&sid) => CookieSession::Reference { sid, chunks },
                _ => CookieSession::Unusable {
                    reason: "payload",
                    chunks,
                },
            },
        };
    }
    match opened.open(keys, name, joined) {
        Err(e) => CookieSession::Unusable {
            reason: e.reason(),
            chunks,
        },
        Ok(session) => match lifetime.expired(&session, now) {
            Some(reason) => CookieSession::Unusable { reason, chunks },
            None => CookieSession::Valid { session, chunks },
        },
    }
}

/// Session ids are what `new_session_id` makes: 22 base64url characters.
fn plausible_sid(sid: &str) -> bool {
    sid.len() == 22
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `Set-Cookie` values that store `sealed` and clear chunks the request had that it no
/// longer uses.
pub fn write(
    name: &str,
    sealed: &str,
    previous: &[usize],
    secure: bool,
    max_age: u64,
) -> Vec<String> {
    let attrs = CookieAttrs {
        secure,
        max_age: Some(max_age),
    };
    cookies::session_set_cookies(name, sealed, previous, &attrs)
}

/// The `Set-Cookie` values that clear every chunk the request had.
pub fn clear(name: &str, present: &[usize], secure: bool) -> Vec<String> {
    cookies::session_clear_cookies(name, present, secure)
}
