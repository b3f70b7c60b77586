//! Reading the `Cookie` request header and writing `Set-Cookie` response headers for the session
//! and its chunks. Pure string work, kept apart from the codec so that the proxy phases
//! (CONTRACT §4 steps 1, 4 and 7) are each one call: find the chunks, strip them before the
//! request goes upstream, and write (or clear) them on the response.
//!
//! Every header this module writes has the same attributes: `Path=/; HttpOnly; SameSite=Lax`, plus
//! `Secure` when the public URL is https. One fixed shape matters because a cookie is identified
//! by name *and* path: a clearing header with another path would leave the real cookie in place.

use super::codec::{chunk_name, split_chunks};

/// The highest chunk index recognised in a cookie name. Larger than [`super::codec::MAX_CHUNKS`]
/// so that a request carrying too many chunks is recognised (and refused, and its chunks
/// stripped and cleared) rather than mistaken for unrelated cookies.
pub const MAX_CHUNK_INDEX: usize = 64;

/// The `(name, value)` pairs of one `Cookie` header (`a=1; b=2`), in order. Whitespace around
/// names and values is trimmed; a value keeps any `=` it contains; pieces without `=` or with an
/// empty name are skipped, since no cookie of ours looks like that. Several `Cookie` headers may
/// arrive (HTTP/2 splits them): the caller chains the iterators.
pub fn parse_cookie_header(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(';').filter_map(|piece| {
        let (name, value) = piece.split_once('=')?;
        let name = name.trim_matches(is_space);
        (!name.is_empty()).then(|| (name, value.trim_matches(is_space)))
    })
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

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

/// The `Cookie` header without the cookies whose name `drop` selects, for the upstream request.
/// The remaining pieces keep their order and bytes (joined by `; `), including pieces this
/// module cannot parse: they are the upstream's business. `None` when nothing remains, so the
/// caller removes the header instead of sending an empty one.
pub fn strip_cookies(header: &str, drop: impl Fn(&str) -> bool) -> Option<String> {
    let kept: Vec<&str> = header
        .split(';')
        .map(|piece| piece.trim_matches(is_space))
        .filter(|piece| !piece.is_empty())
        .filter(|piece| match piece.split_once('=') {
            Some((name, _)) => !drop(name.trim_matches(is_space)),
            None => true,
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

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
/// then a clearing header for each index in `previous_chunks` (the chunks the request carried)
/// that the new value no longer uses, so that a shrinking session leaves no stale chunk that
/// would be joined onto it later.
pub fn session_set_cookies(
    base: &str,
    sealed: &str,
    previous_chunks: &[usize],
    attrs: &CookieAttrs,
) -> Vec<String> {
    let chunks = split_chunks(sealed);
    let mut headers: Vec<String> = chunks
        .iter()
        .enumerate()
        .map(|(k, chunk)| set_cookie(&chunk_name(base, k), chunk, attrs))
        .collect();
    let stale = previous_chunks.iter().filter(|&&k| k >= chunks.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_trimming_spaces() {
        let pairs: Vec<_> = parse_cookie_header("a=1; b=2;c=3 ;  d = 4 ").collect();
        assert_eq!(pairs, vec![("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
    }

    #[test]
    fn value_keeps_equals_signs() {
        let pairs: Vec<_> = parse_cookie_header("t=abc==; u=x=y=z").collect();
        assert_eq!(pairs, vec![("t", "abc=="), ("u", "x=y=z")]);
    }

    #[test]
    fn junk_and_empty_headers_yield_nothing_or_skip() {
        assert_eq!(parse_cookie_header("").count(), 0);
        assert_eq!(parse_cookie_header(" ; ;;").count(), 0);
        let pairs: Vec<_> = parse_cookie_header("junk; =nameless; a=; b=1").collect();
        assert_eq!(pairs, vec![("a", ""), ("b", "1")]);
    }

    #[test]
    fn several_headers_chain() {
        let headers = ["a=1", "b=2; c=3"];
        let names: Vec<_> = headers
            .iter()
            .flat_map(|h| parse_cookie_header(h))
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, vec!["a", "b", "c"]);
    }

    #[test]
    fn chunk_indices() {
        assert_eq!(chunk_index("tg", "tg"), Some(0));
        assert_eq!(chunk_index("tg", "tg.1"), Some(1));
        assert_eq!(chunk_index("tg", "tg.16"), Some(16));
        assert_eq!(chunk_index("tg", "tg.64"), Some(64));
        assert_eq!(chunk_index("tg", "tg.65"), None);
        assert_eq!(chunk_index("tg", "tg.0"), None);
        assert_eq!(chunk_index("tg", "tg.01"), None);
        assert_eq!(chunk_index("tg", "tg."), None);
        assert_eq!(chunk_index("tg", "tg.+1"), None);
        assert_eq!(chunk_index("tg", "tg.1a"), None);
        assert_eq!(chunk_index("tg", "tg.99999999999999999999999"), None);
        assert_eq!(chunk_index("tg", "tgx"), None);
        assert_eq!(chunk_index("tg", "tg-tx.abc"), None);
        assert_eq!(chunk_index("tg", "t"), None);
        assert_eq!(chunk_index("__Host-tg", "__Host-tg.2"), Some(2));
    }

    #[test]
    fn chunk_index_inverts_chunk_name() {
        for k in 0..=MAX_CHUNK_INDEX {
            assert_eq!(chunk_index("tg", &chunk_name("tg", k)), Some(k));
        }
    }

    #[test]
    fn gateway_cookies() {
        assert!(is_gateway_cookie("tg", "tg"));
        assert!(is_gateway_cookie("tg", "tg.3"));
        assert!(is_gateway_cookie("tg", "tg-tx.state123"));
        assert!(!is_gateway_cookie("tg", "tg-tx"));
        assert!(!is_gateway_cookie("tg", "tgx"));
        assert!(!is_gateway_cookie("tg", "other"));
    }

    #[test]
    fn strip_keeps_others_in_order_and_byte_exact() {
        let header = "a=1; tg=AAA;b=x=y ; tg.1=BBB; tg-tx.s=CCC; c=\"q q\"; tgx=keep";
        let stripped = strip_cookies(header, |n| is_gateway_cookie("tg", n));
        assert_eq!(stripped.as_deref(), Some("a=1; b=x=y; c=\"q q\"; tgx=keep"));
    }

    #[test]
    fn strip_keeps_unparseable_pieces() {
        let stripped = strip_cookies("junk; tg=A; b=2", |n| n == "tg");
        assert_eq!(stripped.as_deref(), Some("junk; b=2"));
    }

    #[test]
    fn strip_everything_or_empty_gives_none() {
        assert_eq!(
            strip_cookies("tg=A; tg.1=B", |n| is_gateway_cookie("tg", n)),
            None
        );
        assert_eq!(strip_cookies("", |_| false), None);
        assert_eq!(strip_cookies(" ; ", |_| false), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let plain = CookieAttrs::default();
        assert_eq!(
            set_cookie("tg", "v", &plain),
            "tg=v; Path=/; HttpOnly; SameSite=Lax"
        );
        let https = CookieAttrs {
            secure: true,
            max_age: Some(604800),
        };
        assert_eq!(
            set_cookie("__Host-tg", "v", &https),
            "__Host-tg=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=604800"
        );
    }

    #[test]
    fn clear_cookie_attributes() {
        assert_eq!(
            clear_cookie("tg.2", false),
            "tg.2=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        assert_eq!(
            clear_cookie("tg", true),
            "tg=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0"
        );
    }

    #[test]
    fn one_chunk_session_with_no_previous() {
        let headers = session_set_cookies("tg", "SEALED", &[], &CookieAttrs::default());
        assert_eq!(headers, vec!["tg=SEALED; Path=/; HttpOnly; SameSite=Lax"]);
    }

    #[test]
    fn shrinking_from_three_chunks_to_one_clears_the_stale_two() {
        let attrs = CookieAttrs {
            secure: true,
            max_age: None,
        };
        let headers = session_set_cookies("tg", "small", &[0, 1, 2], &attrs);
        assert_eq!(
            headers,
            vec![
                "tg=small; Path=/; HttpOnly; SameSite=Lax; Secure",
                "tg.1=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0",
                "tg.2=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0",
            ]
        );
    }

    #[test]
    fn growing_to_three_chunks_writes_all_and_clears_nothing() {
        let sealed = "a".repeat(2 * super::super::codec::MAX_COOKIE_VALUE + 5);
        let headers = session_set_cookies("tg", &sealed, &[0, 1], &CookieAttrs::default());
        assert_eq!(headers.len(), 3);
        assert!(headers[0].starts_with(&format!("tg={}; ", "a".repeat(4000))));
        assert!(headers[1].starts_with(&format!("tg.1={}; ", "a".repeat(4000))));
        assert_eq!(headers[2], "tg.2=aaaaa; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn stale_indices_are_cleared_once_each() {
        let headers = session_set_cookies("tg", "x", &[3, 3, 0, 5], &CookieAttrs::default());
        assert_eq!(
            headers,
            vec![
                "tg=x; Path=/; HttpOnly; SameSite=Lax",
                "tg.3=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                "tg.5=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            ]
        );
    }

    #[test]
    fn clearing_a_session_always_clears_chunk_zero() {
        assert_eq!(
            session_clear_cookies("tg", &[], false),
            vec!["tg=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"]
        );
        assert_eq!(
            session_clear_cookies("tg", &[2, 0, 1, 2], true),
            vec![
                "tg=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0",
                "tg.2=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0",
                "tg.1=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0",
            ]
        );
    }
}
