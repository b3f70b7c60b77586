use super::chunks::*;
use super::header::*;
use super::set_cookie::*;
use super::{CookieSession, SessionCookies};
use crate::session::codec::KeyRing;
use crate::session::codec::{CodecError, MAX_CHUNKS, MAX_COOKIE_VALUE};
use crate::session::lifetime::Lifetime;
use crate::session::opened::OpenedSessions;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use std::time::Duration;

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
    let headers = session_set_cookies("tg", "SEALED", &[], 1, &CookieAttrs::default());
    assert_eq!(headers, vec!["tg=SEALED; Path=/; HttpOnly; SameSite=Lax"]);
}

#[test]
fn shrinking_from_three_chunks_to_one_clears_the_stale_two() {
    let attrs = CookieAttrs {
        secure: true,
        max_age: None,
    };
    let headers = session_set_cookies("tg", "small", &[0, 1, 2], 3, &attrs);
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
    let sealed = "a".repeat(2 * crate::session::codec::MAX_COOKIE_VALUE + 5);
    let headers = session_set_cookies("tg", &sealed, &[0, 1], 3, &CookieAttrs::default());
    assert_eq!(headers.len(), 3);
    assert!(headers[0].starts_with(&format!("tg={}; ", "a".repeat(4000))));
    assert!(headers[1].starts_with(&format!("tg.1={}; ", "a".repeat(4000))));
    assert_eq!(headers[2], "tg.2=aaaaa; Path=/; HttpOnly; SameSite=Lax");
}

#[test]
fn stale_indices_are_cleared_once_each() {
    let headers = session_set_cookies("tg", "x", &[3, 3, 0, 5], 1, &CookieAttrs::default());
    assert_eq!(
        headers,
        vec![
            "tg=x; Path=/; HttpOnly; SameSite=Lax",
            "tg.3=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            "tg.5=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        ]
    );
}

/// Applies `Set-Cookie` values to a browser's cookies (name → value), as a browser does.
fn apply(jar: &mut Vec<(String, String)>, set_cookies: &[String]) {
    for sc in set_cookies {
        let first = sc.split(';').next().unwrap_or_default();
        let (name, value) = first.split_once('=').unwrap_or((first, ""));
        jar.retain(|(n, _)| n != name);
        if !sc.contains("Max-Age=0") {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

/// Two responses written from the same one-chunk cookie, a longer (three chunks) and a shorter
/// (two chunks) version, arriving in either order: the browser's cookies must join to the value
/// of the one that arrived last, never to a mix with a stale chunk of the other.
#[test]
fn any_order_of_parallel_responses_leaves_a_readable_cookie() {
    let attrs = CookieAttrs::default();
    let long = "L".repeat(2 * MAX_COOKIE_VALUE + 10);
    let short = "S".repeat(MAX_COOKIE_VALUE + 10);
    let write = |v: &str| session_set_cookies("tg", v, &[0], MAX_CHUNKS, &attrs);
    for (first, last) in [(&long, &short), (&short, &long)] {
        let mut jar = vec![("tg".to_owned(), "OLD".to_owned())];
        apply(&mut jar, &write(first));
        apply(&mut jar, &write(last));
        let joined = join_chunks("tg", jar.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        assert_eq!(joined, Ok(Some(last.clone())), "{} first", first.len());
    }
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

fn cookie_fields(fields: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for f in fields {
        headers.append(
            http::header::COOKIE,
            HeaderValue::from_str(f).expect("ascii"),
        );
    }
    headers
}

#[test]
fn session_chunks_are_found_in_every_cookie_field() {
    let headers = cookie_fields(&[
        "tg.2=c; other=1; tg=a",
        "tg.1=b; tg.2=again; tgx=1; tg.01=no",
    ]);
    assert_eq!(present(&headers, "tg"), vec![0, 1, 2]);
    assert!(present(&cookie_fields(&["a=1"]), "tg").is_empty());
}

#[test]
fn more_chunks_than_allowed_is_an_unusable_cookie() {
    let keys = KeyRing::new(&[[7u8; 32]]).expect("a key");
    let opened = OpenedSessions::uncached();
    let lifetime = Lifetime {
        absolute: Duration::from_secs(3600),
        idle: None,
    };
    let cookies = |max_chunks| SessionCookies {
        name: "tg".into(),
        secure: false,
        reference: false,
        max_chunks,
    };
    let headers = cookie_fields(&["tg=a; tg.1=b; tg.2=c"]);
    let read = |max| {
        cookies(max)
            .reader(&keys, &opened, &lifetime)
            .read(&headers, 1)
    };
    match read(2) {
        CookieSession::Unusable { reason, chunks } => {
            assert_eq!(reason, "too_many_chunks");
            assert_eq!(chunks, vec![0, 1, 2]);
        }
        other => panic!("expected unusable, got {other:?}"),
    }
    // Within the bound the chunks are read (and these do not open).
    assert!(matches!(
        read(3),
        CookieSession::Unusable { reason, .. } if reason != "too_many_chunks"
    ));
    let none = cookie_fields(&[]);
    let reader_cookies = cookies(1);
    let reader = reader_cookies.reader(&keys, &opened, &lifetime);
    assert!(matches!(reader.read(&none, 1), CookieSession::Absent));
}

#[test]
fn split_sizes() {
    assert_eq!(split_chunks(""), vec![""]);
    let value = "x".repeat(8001);
    let lens: Vec<_> = split_chunks(&value).iter().map(|c| c.len()).collect();
    assert_eq!(lens, vec![4000, 4000, 1]);
    assert_eq!(split_chunks(&"y".repeat(4000)).len(), 1);
}

#[test]
fn split_respects_char_boundaries() {
    let value = format!("{}é{}", "a".repeat(3999), "b".repeat(10));
    let chunks = split_chunks(&value);
    assert_eq!(
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
        vec![3999, 12]
    );
    assert_eq!(chunks.concat(), value);
}

#[test]
fn chunk_names() {
    assert_eq!(chunk_name("tg", 0), "tg");
    assert_eq!(chunk_name("tg", 3), "tg.3");
}

#[test]
fn join_finds_chunks_in_any_order_among_other_cookies() {
    let cookies = [
        ("a", "1"),
        ("tg.2", "C"),
        ("tg", "A"),
        ("tgx", "no"),
        ("tg.1", "B"),
    ];
    assert_eq!(
        join_chunks("tg", cookies.into_iter()),
        Ok(Some("ABC".into()))
    );
}

#[test]
fn join_without_chunk_zero_is_none() {
    let cookies = [("a", "1"), ("tg.1", "B")];
    assert_eq!(join_chunks("tg", cookies.into_iter()), Ok(None));
    assert_eq!(join_chunks("tg", std::iter::empty()), Ok(None));
}

#[test]
fn join_stops_at_a_gap() {
    let cookies = [("tg", "A"), ("tg.2", "C"), ("tg.3", "D")];
    assert_eq!(join_chunks("tg", cookies.into_iter()), Ok(Some("A".into())));
}

#[test]
fn join_uses_the_first_of_duplicate_names() {
    let cookies = [("tg", "new"), ("tg", "old"), ("tg.1", "1"), ("tg.1", "x")];
    assert_eq!(
        join_chunks("tg", cookies.into_iter()),
        Ok(Some("new1".into()))
    );
}

#[test]
fn join_refuses_more_than_max_chunks() {
    let names: Vec<String> = (0..=MAX_CHUNKS).map(|k| chunk_name("tg", k)).collect();
    let at_limit = names[..MAX_CHUNKS].iter().map(|n| (n.as_str(), "v"));
    assert_eq!(
        join_chunks("tg", at_limit).map(|v| v.map(|s| s.len())),
        Ok(Some(MAX_CHUNKS))
    );
    let over = names.iter().map(|n| (n.as_str(), "v"));
    assert_eq!(join_chunks("tg", over), Err(CodecError::TooLarge));
}

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

proptest! {
    #[test]
    fn split_join_round_trips(
        bytes in (0usize..20000).prop_flat_map(|len| prop::collection::vec(prop::sample::select(BASE64URL), len))
    ) {
        let len = bytes.len();
        let value = String::from_utf8(bytes).unwrap_or_default();
        let chunks = split_chunks(&value);
        prop_assert!(chunks.iter().all(|c| c.len() <= MAX_COOKIE_VALUE));
        prop_assert_eq!(chunks.len(), len.div_ceil(MAX_COOKIE_VALUE).max(1));
        let names: Vec<String> = (0..chunks.len()).map(|k| chunk_name("tg", k)).collect();
        let cookies = names.iter().map(String::as_str).zip(chunks.iter().copied());
        prop_assert_eq!(join_chunks("tg", cookies), Ok(Some(value)));
    }
}
