//! The session cookie, read and written in one place: `header` parses the request's `Cookie`
//! fields, `chunks` cuts and joins a sealed session spread over several cookies, `set_cookie`
//! writes `Set-Cookie` values. [`SessionCookies`] (built once per config) ties them together, so
//! reading a request's session is one call:
//! `loaded.session_reader().read(headers, now)` (see `app::Loaded::session_reader`).
//!
//! Every way a cookie can be unusable ends in [`CookieSession::Unusable`] with a reason for the
//! metric, never in an error that could become a 5xx. The codec (`session::codec`, seal and
//! open) stays pure and apart from the header work here.

pub mod budget;
pub mod chunks;
pub mod header;
pub mod set_cookie;

use super::codec::KeyRing;
use super::lifetime::Lifetime;
use super::model::{Session, UnixSeconds};
use super::opened::OpenedSessions;
use super::store::reference_purpose;
use http::HeaderMap;
use set_cookie::CookieAttrs;
use std::sync::Arc;

/// How this config's session cookie is named and written (`session:`, `server.public_url`,
/// `limits.max_cookie_chunks`).
#[derive(Clone, Debug)]
pub struct SessionCookies {
    pub name: String,
    /// `Secure` on every cookie: the public URL is https.
    pub secure: bool,
    /// `store: redis`: the cookie holds only a sealed reference to the session's record.
    pub reference: bool,
    /// More chunks than this is no session, however they would decrypt.
    pub max_chunks: usize,
}

/// What a request's session cookie turned out to be.
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

    /// The chunk indices, taken out of the value.
    pub fn into_chunks(self) -> Vec<usize> {
        match self {
            CookieSession::Absent => Vec::new(),
            CookieSession::Unusable { chunks, .. }
            | CookieSession::Valid { chunks, .. }
            | CookieSession::Reference { chunks, .. } => chunks,
        }
    }
}

impl SessionCookies {
    /// A reader of this cookie with the keys, the opened-session cache and the lifetime rules.
    pub fn reader<'a>(
        &'a self,
        keys: &'a KeyRing,
        opened: &'a OpenedSessions,
        lifetime: &'a Lifetime,
    ) -> SessionReader<'a> {
        SessionReader {
            cookies: self,
            keys,
            opened,
            lifetime,
        }
    }

    /// True for the gateway's own cookies (session chunks, login transactions): these never
    /// reach an upstream, and an upstream may not set them.
    pub fn is_ours(&self, cookie_name: &str) -> bool {
        chunks::is_gateway_cookie(&self.name, cookie_name)
    }

    /// The chunk indices of the session cookie a request carried, sorted, once each.
    pub fn present(&self, headers: &HeaderMap) -> Vec<usize> {
        chunks::present(headers, &self.name)
    }

    /// The `Set-Cookie` values that store `sealed` for `max_age` seconds and clear every chunk
    /// it does not use (up to `max_chunks`, and any the request had: `previous`).
    pub fn write(&self, sealed: &str, previous: &[usize], max_age: u64) -> Vec<String> {
        let attrs = CookieAttrs {
            secure: self.secure,
            max_age: Some(max_age),
        };
        set_cookie::session_set_cookies(&self.name, sealed, previous, self.max_chunks, &attrs)
    }

    /// The `Set-Cookie` values that clear chunk 0 and every chunk in `present`.
    pub fn clear(&self, present: &[usize]) -> Vec<String> {
        set_cookie::session_clear_cookies(&self.name, present, self.secure)
    }
}

/// Reads the session out of a request's `Cookie` fields; see [`SessionCookies::reader`].
#[derive(Clone, Copy)]
pub struct SessionReader<'a> {
    cookies: &'a SessionCookies,
    keys: &'a KeyRing,
    opened: &'a OpenedSessions,
    lifetime: &'a Lifetime,
}

impl SessionReader<'_> {
    /// Finds, joins, opens and checks the session cookie. With the redis store the cookie holds
    /// only a session id.
    pub fn read(&self, headers: &HeaderMap, now: UnixSeconds) -> CookieSession {
        let name = &self.cookies.name;
        // Parsed once: checking a multi-kilobyte `Cookie` field is text is the costly part.
        let pairs: Vec<(&str, &str)> = header::pairs(headers).collect();
        let chunks = chunks::indices(pairs.iter().copied(), name);
        if chunks.is_empty() {
            return CookieSession::Absent;
        }
        if chunks.len() > self.cookies.max_chunks {
            // Reading them would be work a client chose.
            return CookieSession::Unusable {
                reason: "too_many_chunks",
                chunks,
            };
        }
        let unusable = |reason, chunks| CookieSession::Unusable { reason, chunks };
        let joined = match chunks::join_chunks(name, pairs.iter().copied()) {
            Ok(Some(v)) => v,
            // Only `NAME.k` chunks without `NAME`: leftovers to clear.
            Ok(None) => return unusable("malformed", chunks),
            Err(e) => return unusable(e.reason(), chunks),
        };
        if self.cookies.reference {
            return match self.keys.open(&reference_purpose(name), &joined) {
                Err(e) => unusable(e.reason(), chunks),
                Ok(raw) => match String::from_utf8(raw) {
                    Ok(sid) if plausible_sid(&sid) => CookieSession::Reference { sid, chunks },
                    _ => unusable("payload", chunks),
                },
            };
        }
        match self.opened.open(self.keys, name, joined) {
            Err(e) => unusable(e.reason(), chunks),
            Ok(session) => match self.lifetime.expired(&session, now) {
                Some(reason) => unusable(reason, chunks),
                None => CookieSession::Valid { session, chunks },
            },
        }
    }
}

/// Session ids are what `new_session_id` makes: 22 base64url characters.
fn plausible_sid(sid: &str) -> bool {
    sid.len() == 22
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests;
