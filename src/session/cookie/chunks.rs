//! A sealed session longer than one cookie, as chunks `NAME`, `NAME.1`, ... `NAME.k`
//! (`docs/reference.md#session-size`): cutting the sealed value, naming each piece, and joining
//! the pieces a request carried. Pure string work on the opaque sealed value.

use super::header;
use crate::session::codec::{CodecError, MAX_CHUNKS, MAX_COOKIE_VALUE};
use http::HeaderMap;

/// The highest chunk index recognised in a cookie name. Larger than [`MAX_CHUNKS`]
/// so that a request carrying too many chunks is recognised (and refused, and its chunks
/// stripped and cleared) rather than mistaken for unrelated cookies.
pub const MAX_CHUNK_INDEX: usize = 64;

/// Which chunk of the session cookie `base` the cookie `name` is: `NAME` → 0, `NAME.k` → k for
/// 1 ≤ k ≤ [`MAX_CHUNK_INDEX`] written in decimal without leading zeros (so each chunk has exactly
/// one name, and `NAME.01` cannot shadow `NAME.1`); anything else → `None`.
pub fn chunk_index(base: &str, name: &str) -> Option<usize> {
    let rest = name.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(0);
    }
    let digits = rest.strip_prefix('.')?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let k: usize = digits.parse().ok()?;
    (1..=MAX_CHUNK_INDEX).contains(&k).then_some(k)
}

/// True for the names of the gateway's own cookies under `base`: every session chunk and every
/// login-transaction cookie (`NAME-tx.<state>`). These never reach an upstream.
pub fn is_gateway_cookie(base: &str, name: &str) -> bool {
    chunk_index(base, name).is_some()
        || name
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with("-tx."))
}

/// The chunk indices of session cookie `base` among all `Cookie` fields, sorted, once each.
pub fn present(headers: &HeaderMap, base: &str) -> Vec<usize> {
    indices(header::pairs(headers), base)
}

/// The chunk indices of session cookie `base` among `(name, value)` pairs, sorted, once each.
pub fn indices<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, base: &str) -> Vec<usize> {
    let mut chunks: Vec<usize> = pairs.filter_map(|(n, _)| chunk_index(base, n)).collect();
    chunks.sort_unstable();
    chunks.dedup();
    chunks
}

/// Cuts a sealed value into cookie-sized pieces of at most [`MAX_COOKIE_VALUE`] bytes. An empty
/// value gives one empty piece, so that chunk 0 (`NAME`) always exists. Sealed values are ASCII;
/// other text is still cut only at character boundaries.
pub fn split_chunks(value: &str) -> Vec<&str> {
    let mut chunks = Vec::with_capacity(value.len() / MAX_COOKIE_VALUE + 1);
    let mut rest = value;
    loop {
        if rest.len() <= MAX_COOKIE_VALUE {
            chunks.push(rest);
            return chunks;
        }
        let mut cut = MAX_COOKIE_VALUE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        match rest.split_at_checked(cut) {
            Some((head, tail)) => {
                chunks.push(head);
                rest = tail;
            }
            // Unreachable: `cut` is a char boundary within `rest`.
            None => {
                chunks.push(rest);
                return chunks;
            }
        }
    }
}

/// The cookie name of chunk `k`: `NAME` for 0, `NAME.k` after.
pub fn chunk_name(base: &str, k: usize) -> String {
    if k == 0 {
        base.to_owned()
    } else {
        format!("{base}.{k}")
    }
}

/// Reassembles a chunked value from the request's `(name, value)` cookie pairs. `None` when chunk
/// 0 is absent. Chunks are read from 0 up to the first missing index (a gap ends the value, as a
/// browser that dropped a chunk leaves a value that will fail to open anyway). When one chunk
/// name occurs twice (cookies for two paths), the first occurrence wins, as browsers send the
/// most specific path first. More than [`MAX_CHUNKS`] chunks is [`CodecError::TooLarge`].
pub fn join_chunks<'a>(
    base: &str,
    cookies: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Option<String>, CodecError> {
    let mut slots: [Option<&str>; MAX_CHUNKS + 1] = [None; MAX_CHUNKS + 1];
    for (name, value) in cookies {
        if let Some(slot) = chunk_index(base, name).and_then(|k| slots.get_mut(k)) {
            slot.get_or_insert(value);
        }
    }
    let present: Vec<&str> = slots.iter().map_while(|s| *s).collect();
    if present.is_empty() {
        return Ok(None);
    }
    if present.len() > MAX_CHUNKS {
        return Err(CodecError::TooLarge);
    }
    Ok(Some(present.concat()))
}
