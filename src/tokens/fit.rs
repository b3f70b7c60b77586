//! Makes a session fit what its cookie may hold (`limits.max_cookie_chunks`,
//! `limits.max_cookie_bytes`; `docs/reference.md#session-size`) by dropping additional token sets,
//! least recently *used* first, in the order `cache::prune` keeps. Reading refuses a larger
//! cookie, so writing one would log the user out on their next request; a dropped token costs
//! only one exchange when its route is used again.
//!
//! Never dropped: the primary (login) token, and the tokens `keep` names (the one the current
//! request is about to use, or it would be fetched again on every request).

use crate::session::model::{Session, TokenSet};

/// What [`fit`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Fitted {
    /// Additional token sets dropped.
    pub dropped: usize,
    /// Whether the session now fits; `false` when even without every droppable token it does
    /// not, and no cookie may be written from it.
    pub fits: bool,
}

/// Drops the least recently used additional token sets of `session` not named by `keep` until
/// `fits` holds for it. Ties of `last_used` drop the earliest stored first.
pub fn fit(
    session: &mut Session,
    fits: impl Fn(&Session) -> bool,
    keep: impl Fn(&TokenSet) -> bool,
) -> Fitted {
    let mut dropped = 0;
    loop {
        if fits(session) {
            return Fitted {
                dropped,
                fits: true,
            };
        }
        // `min_by_key` returns the first of equal minima: the earliest in the vec.
        let lru = session
            .extra
            .iter()
            .enumerate()
            .filter(|(_, t)| !keep(t))
            .min_by_key(|(_, t)| t.last_used)
            .map(|(i, _)| i);
        match lru {
            Some(i) => {
                session.extra.remove(i);
                dropped += 1;
            }
            None => {
                return Fitted {
                    dropped,
                    fits: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
