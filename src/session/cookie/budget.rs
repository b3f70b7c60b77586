//! What a written cookie may cost, measured as reading measures it (`docs/reference.md#session-size`):
//! at most `limits.max_cookie_chunks` chunks, and the `NAME=value; NAME.1=value` pairs a browser
//! sends back within `limits.max_cookie_bytes`. A session the gateway writes is always one it will
//! read back; a larger one would log the user out on their next request.
//!
//! The sealed length follows from the plaintext length alone (`codec::sealed_len`), so whether a
//! session fits is known without encrypting it.

use crate::session::codec::{sealed_len, CodecError, KeyRing, MAX_COOKIE_VALUE};
use crate::session::model::Session;

/// The session cookie's limits, in the form the writers test against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieBudget {
    /// Length of the cookie's name: each chunk's `NAME.k=` counts against `max_bytes`.
    pub name_len: usize,
    /// `limits.max_cookie_chunks`.
    pub max_chunks: usize,
    /// `limits.max_cookie_bytes`.
    pub max_bytes: usize,
}

impl CookieBudget {
    /// How many chunks a sealed value of `len` bytes is cut into (at least one).
    pub fn chunks(len: usize) -> usize {
        len.div_ceil(MAX_COOKIE_VALUE).max(1)
    }

    /// The bytes of the `Cookie` header a browser sends back for a sealed value of `len` bytes:
    /// every `NAME.k=chunk` pair and the `; ` between them.
    pub fn cookie_bytes(&self, len: usize) -> usize {
        let n = Self::chunks(len);
        let suffixes: usize = (1..n).map(|k| 1 + decimal_digits(k)).sum();
        n * (self.name_len + 1) + suffixes + len + 2 * (n - 1)
    }

    /// Whether a sealed value of `len` bytes is one reading accepts.
    pub fn fits_sealed(&self, len: usize) -> bool {
        Self::chunks(len) <= self.max_chunks && self.cookie_bytes(len) <= self.max_bytes
    }

    /// Whether `session`, sealed, is one reading accepts.
    pub fn fits(&self, session: &Session) -> bool {
        session_sealed_len(session).is_some_and(|len| self.fits_sealed(len))
    }
}

/// The sealed cookie value of `session`, or [`CodecError::TooLarge`] when reading would refuse it
/// (`limits.max_cookie_chunks`, `limits.max_cookie_bytes`): every version is fitted to them
/// when it is made (`tokens::fit`), so only a session that cannot fit, or one made before a
/// reload lowered the limits, is refused; the browser then keeps the cookie it has.
pub fn seal_within(
    keys: &KeyRing,
    name: &str,
    budget: Option<CookieBudget>,
    session: &Session,
) -> Result<String, CodecError> {
    let sealed = keys.seal_session(name, session)?;
    match budget {
        Some(b) if !b.fits_sealed(sealed.len()) => Err(CodecError::TooLarge),
        _ => Ok(sealed),
    }
}

/// What `tokengate check` assumes one token set costs in the session (an access token of about
/// 1.4 KB, a typical JWT, with its audience and scopes), before sealing.
pub const NOMINAL_TOKEN_SET: usize = 1536;
/// What it assumes the rest of a session costs (ID token, refresh token, user, claims).
pub const NOMINAL_SESSION_REST: usize = 2048;

impl CookieBudget {
    /// How many additional token sets of [`NOMINAL_TOKEN_SET`] bytes a session of
    /// [`NOMINAL_SESSION_REST`] with its primary token holds within these limits: the estimate
    /// `tokens.max_cached` is checked against (`None`: not even the primary fits).
    pub fn nominal_capacity(&self) -> Option<usize> {
        let fits = |sets: usize| {
            self.fits_sealed(sealed_len(NOMINAL_SESSION_REST + sets * NOMINAL_TOKEN_SET))
        };
        if !fits(1) {
            return None;
        }
        // Bounded: at most 16 chunks of 4000 bytes hold fewer than 64 such sets.
        (1..=64).take_while(|&n| fits(n + 1)).last().or(Some(0))
    }
}

/// The length of `session` sealed into a cookie value (`None`: it cannot be serialised, which
/// plain structs never fail to be).
pub fn session_sealed_len(session: &Session) -> Option<usize> {
    let json = serde_json::to_vec(session).ok()?;
    Some(sealed_len(json.len()))
}

fn decimal_digits(k: usize) -> usize {
    k.checked_ilog10().map_or(1, |d| d as usize + 1)
}

#[cfg(test)]
mod tests;
