use super::*;
use proptest::prelude::*;

#[test]
fn normalize_path_table() {
    let ok: &[(&str, &str)] = &[
        ("/", "/"),
        ("/api/orders", "/api/orders"),
        ("/api/orders/", "/api/orders/"),
        ("/api/orders/../admin", "/api/admin"),
        ("/a/./b", "/a/b"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/..", "/"),
        ("/.", "/"),
        ("/../../x", "/x"),
        ("/a/b/../../../c", "/c"),
        ("/%41", "/A"),
        ("/%7e", "/~"),
        ("/%7E%2d%5F%2E", "/~-_."),
        ("/a%3ab", "/a%3Ab"),
        ("/a%3Ab", "/a%3Ab"),
        ("/x%c3%a9", "/x%C3%A9"),
        ("/x%00", "/x%00"),
        ("/%2e%2e/admin", "/admin"),
        ("/api/orders/%2e%2E/admin", "/api/admin"),
        ("/api/orders/.%2e/admin", "/api/admin"),
        ("/a/%2e/b", "/a/b"),
        ("/a//b", "/a//b"),
        ("/a//b/../c", "/a//c"),
        ("/a//..", "/a/"),
        ("/.well-known/x", "/.well-known/x"),
        ("/a/.../b", "/a/.../b"),
        ("/a/..b/c.", "/a/..b/c."),
        ("/v1/items/a|b[0]^{\"k\"}", "/v1/items/a|b[0]^{\"k\"}"),
        ("/@user:x;y=1,z!$&'()*+", "/@user:x;y=1,z!$&'()*+"),
    ];
    for (raw, want) in ok {
        assert_eq!(normalize_path(raw).as_deref(), Ok(*want), "input {raw:?}");
    }
}

#[test]
fn normalize_path_refusals() {
    let bad: &[(&str, BadPath)] = &[
        ("", BadPath::NotAbsolute),
        ("*", BadPath::NotAbsolute),
        ("api/orders", BadPath::NotAbsolute),
        ("http://evil/x", BadPath::NotAbsolute),
        ("/a%2Fb", BadPath::EncodedSeparator),
        ("/a%2fb", BadPath::EncodedSeparator),
        ("/a%5Cb", BadPath::EncodedSeparator),
        ("/a%5cb", BadPath::EncodedSeparator),
        ("/%", BadPath::InvalidEscape),
        ("/%4", BadPath::InvalidEscape),
        ("/%zz", BadPath::InvalidEscape),
        ("/%4g", BadPath::InvalidEscape),
        ("/%%41", BadPath::InvalidEscape),
        ("/a b", BadPath::ForbiddenByte),
        ("/a\\b", BadPath::ForbiddenByte),
        ("/a\tb", BadPath::ForbiddenByte),
        ("/a\r\nb", BadPath::ForbiddenByte),
        ("/a\u{0}b", BadPath::ForbiddenByte),
        ("/a\u{7f}b", BadPath::ForbiddenByte),
        ("/caf\u{e9}", BadPath::ForbiddenByte),
        ("/a?b", BadPath::ForbiddenByte),
        ("/a#b", BadPath::ForbiddenByte),
        ("/a<b>", BadPath::ForbiddenByte),
        ("/a`b", BadPath::ForbiddenByte),
        // A forbidden byte after an escape is still found.
        ("/%41/a b", BadPath::ForbiddenByte),
    ];
    for (raw, want) in bad {
        assert_eq!(normalize_path(raw), Err(*want), "input {raw:?}");
    }
}

#[test]
fn safe_return_to_table() {
    let long = format!("/{}", "a".repeat(MAX_RETURN_TO));
    let cases: &[(Option<&str>, &str)] = &[
        (None, "/"),
        (Some(""), "/"),
        (Some("/"), "/"),
        (Some("/ok?x=1#f"), "/ok?x=1#f"),
        (Some("/app/orders/42"), "/app/orders/42"),
        (Some("//evil.com"), "/"),
        (Some("/\\evil.com"), "/"),
        (Some("/a\\b"), "/"),
        (Some("https://evil.com"), "/"),
        (Some("javascript:alert(1)"), "/"),
        (Some("evil.com"), "/"),
        (Some("/a\r\nSet-Cookie:x"), "/"),
        (Some("/\t/evil.com"), "/"),
        (Some("/a\u{7f}"), "/"),
        (Some(" /x"), "/"),
        (Some("/a b"), "/a%20b"),
        (Some("/caf\u{e9}"), "/caf%C3%A9"),
        (Some(long.as_str()), "/"),
    ];
    for (raw, want) in cases {
        assert_eq!(safe_return_to(*raw), *want, "input {raw:?}");
    }
    let at_limit = format!("/{}", "a".repeat(MAX_RETURN_TO - 1));
    assert_eq!(safe_return_to(Some(&at_limit)), at_limit);
}

proptest! {
    #[test]
    fn normalize_path_never_panics_and_is_idempotent(raw in any::<String>()) {
        if let Ok(once) = normalize_path(&raw) {
            prop_assert_eq!(normalize_path(&once), Ok(once.clone()));
        }
    }

    /// Path-shaped inputs reach the decoding and dot-removal code far more often than arbitrary
    /// strings do.
    #[test]
    fn normalized_paths_are_fixed_points_without_dot_segments(
        raw in "/[a./%2eEfF0-9~_-]{0,40}"
    ) {
        if let Ok(once) = normalize_path(&raw) {
            prop_assert_eq!(normalize_path(&once), Ok(once.clone()));
            prop_assert!(once.starts_with('/'));
            prop_assert!(once.split('/').all(|s| s != "." && s != ".."), "{}", once);
        }
    }

    #[test]
    fn safe_return_to_is_relative_or_root(raw in any::<String>()) {
        let out = safe_return_to(Some(&raw));
        prop_assert!(out == "/" || out == raw || out.len() > raw.len());
        prop_assert!(out.starts_with('/'));
        prop_assert!(!out.starts_with("//"));
        prop_assert!(out.bytes().all(|b| b.is_ascii_graphic()));
    }
}
