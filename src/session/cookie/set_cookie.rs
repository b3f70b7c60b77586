//! `Set-Cookie` response headers for the session and its chunks, and for the login
//! transaction.
//!
//! Every header this module writes has the same attributes: `Path=/; HttpOnly; SameSite=Lax`, plus
//! `Secure` when the public URL is https. One fixed shape matters because a cookie is identified
//! by name *and* path: a clearing header with another path would leave the real cookie in place.

use super::chunks::{chunk_name, split_chunks};

/// How session cookies are written. `secure` follows the scheme of `public_url`; `max_age` is
/// `None` for a browser-session cookie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CookieAttrs {
    pub secure: bool,
    /// Seconds.
    pub max_age: Option<u64>,
}

/// One `Set-Cookie` value: `NAME=VALUE; Path=/; HttpOnly; SameSite=Lax[; Secure][; Max-Age=N]`.
///
/// Formatted by hand rather than with the `cookie` crate, whose attribute order differs and
/// which would add nothing here: names come from validated config and values from the codec
/// (base64url), so neither needs quoting or encoding.
pub fn set_cookie(name: &str, value: &str, attrs: &CookieAttrs) -> String {
    let mut header = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if attrs.secure {
        header.push_str("; Secure");
    }
    if let Some(max_age) = attrs.max_age {
        header.push_str("; Max-Age=");
        header.push_str(&max_age.to_string());
    }
    header
}

/// A `Set-Cookie` value that deletes the cookie `name`: the same attributes as [`set_cookie`]
/// (a cookie is only replaced by one with the same name and path), an empty value, `Max-Age=0`.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(
        name,
        "",
        &CookieAttrs {
            secure,
            max_age: Some(0),
        },
    )
}

/// The `Set-Cookie` values that store the sealed session `sealed` under `base`: one per chunk,
/// then a clearing header for every index the new value does not use, below `limit`
/// (`limits.max_cookie_chunks`) and in `previous_chunks` (the chunks the request carried).
///
/// Every index, not only those the request carried: parallel responses written from the same
/// cookie arrive in any order, and a longer one that arrived first left chunks this request
/// never saw. Each response so sets the whole cookie, and the last one to arrive wins whole;
/// a stale chunk joined onto a shorter value would fail to open and log the user out.
pub fn session_set_cookies(
    base: &str,
    sealed: &str,
    previous_chunks: &[usize],
    limit: usize,
    attrs: &CookieAttrs,
) -> Vec<String> {
    let chunks = split_chunks(sealed);
    let mut headers: Vec<String> = chunks
        .iter()
        .enumerate()
        .map(|(k, chunk)| set_cookie(&chunk_name(base, k), chunk, attrs))
        .collect();
    let unused: Vec<usize> = (chunks.len()..limit).collect();
    let stale = unused
        .iter()
        .chain(previous_chunks)
        .filter(|&&k| k >= chunks.len());
    headers.extend(unique(stale).map(|k| clear_cookie(&chunk_name(base, k), attrs.secure)));
    headers
}

/// The `Set-Cookie` values that delete a session: chunk 0 always (the caller may not know it was
/// sent, e.g. on logout), and every other index in `present`.
pub fn session_clear_cookies(base: &str, present: &[usize], secure: bool) -> Vec<String> {
    unique([0].iter().chain(present))
        .map(|k| clear_cookie(&chunk_name(base, k), secure))
        .collect()
}

/// The indices in first-seen order without repeats: one header per cookie name is enough.
fn unique<'a>(indices: impl Iterator<Item = &'a usize>) -> impl Iterator<Item = usize> {
    let mut seen = Vec::new();
    indices.copied().filter(move |k| {
        let new = !seen.contains(k);
        if new {
            seen.push(*k);
        }
        new
    })
}
