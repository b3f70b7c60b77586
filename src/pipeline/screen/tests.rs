use super::*;
use pingora::http::RequestHeader;

/// The view of a parsed head with, for HTTP/1, its raw form, as the pingora adapter builds it.
fn view<'a>(req: &'a RequestHeader, raw: Option<&[u8]>) -> RequestView<'a> {
    RequestView {
        method: &req.method,
        version: req.version,
        host: None,
        path: req.uri.path(),
        query: req.uri.query(),
        headers: &req.headers,
        client_ip: None,
        raw_head: raw.map(bytes::Bytes::copy_from_slice),
        framing: None,
        target_len: req.raw_path().len(),
    }
}

fn check_head(
    req: &RequestHeader,
    raw: Option<&[u8]>,
    limits: &LimitsConfig,
) -> Result<(), Refusal> {
    super::check_head(&view(req, raw), limits)
}

fn parsed_head_len(req: &RequestHeader) -> usize {
    super::parsed_head_len(&view(req, None))
}

fn limits() -> LimitsConfig {
    LimitsConfig {
        max_header_bytes: 200,
        max_cookie_bytes: 100,
        ..LimitsConfig::default()
    }
}

fn request(version: http::Version, headers: &[(&str, &str)]) -> RequestHeader {
    let mut req = RequestHeader::build("GET", b"/api/x", None).expect("valid request line");
    req.set_version(version);
    for (name, value) in headers {
        req.append_header(name.to_string(), *value)
            .expect("valid header");
    }
    req
}

fn http11(headers: &[(&str, &str)]) -> RequestHeader {
    request(http::Version::HTTP_11, headers)
}

#[test]
fn what_the_framing_tap_found_is_refused_before_anything_else() {
    let req = http11(&[]);
    for violation in [
        Violation::BareLf,
        Violation::InvalidTarget,
        Violation::InvalidChunk,
        Violation::Unobserved,
    ] {
        let mut v = view(&req, None);
        v.framing = Some(violation);
        assert_eq!(
            super::check_head(&v, &limits()),
            Err(Refusal::Framing(violation))
        );
    }
}

#[test]
fn without_a_tap_a_conflict_in_the_raw_head_is_still_refused() {
    // As pingora parses it: `Transfer-Encoding` kept, `Content-Length` removed.
    let req = http11(&[("host", "a"), ("transfer-encoding", "chunked")]);
    for raw in [
        &b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"POST /x HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(
            check_head(&req, Some(raw), &limits()),
            Err(Refusal::Framing(Violation::ConflictingFraming))
        );
    }
    let lookalike =
        b"POST /x HTTP/1.1\r\nX-Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(check_head(&req, Some(lookalike), &limits()), Ok(()));
}

#[test]
fn a_content_length_list_or_repeat_is_refused_from_the_parsed_header_too() {
    for fields in [
        &[("host", "a"), ("content-length", "5, 5")][..],
        &[
            ("host", "a"),
            ("content-length", "5"),
            ("content-length", "5"),
        ],
    ] {
        assert_eq!(
            check_head(&http11(fields), None, &limits()),
            Err(Refusal::Framing(Violation::InvalidContentLength))
        );
    }
    let one = http11(&[("host", "a"), ("content-length", "5")]);
    assert_eq!(check_head(&one, None, &limits()), Ok(()));
}

#[test]
fn http11_needs_a_host_and_http10_does_not() {
    assert_eq!(
        check_head(&http11(&[]), None, &limits()),
        Err(Refusal::MissingHost)
    );
    let old = request(http::Version::HTTP_10, &[]);
    assert_eq!(check_head(&old, None, &limits()), Ok(()));
}

#[test]
fn host_must_be_host_and_optional_port() {
    for good in [
        "example.com",
        "example.com:8080",
        "127.0.0.1:9",
        "[::1]:443",
        "a",
    ] {
        assert!(is_valid_host(good.as_bytes()), "{good}");
        assert_eq!(
            check_head(&http11(&[("host", good)]), None, &limits()),
            Ok(()),
            "{good}"
        );
    }
    for bad in [
        "",
        "a b",
        "user@example.com",
        "example.com/x",
        "example.com:port",
        "a?b",
    ] {
        assert!(!is_valid_host(bad.as_bytes()), "{bad:?}");
        assert_eq!(
            check_head(&http11(&[("host", bad)]), None, &limits()),
            Err(Refusal::InvalidHost),
            "{bad:?}"
        );
    }
}

#[test]
fn parsed_head_length_counts_the_request_line_and_every_field() {
    let req = http11(&[("host", "ab"), ("x-a", "1"), ("x-a", "22")]);
    // "GET /api/x HTTP/1.1\r\n" = 21, "host: ab\r\n" = 10, "x-a: 1\r\n" = 8, "x-a: 22\r\n" = 9.
    assert_eq!(parsed_head_len(&req), 48);
}

#[test]
fn head_size_limit_is_inclusive_and_uses_the_raw_head_when_there_is_one() {
    let req = http11(&[("host", "a")]);
    let raw = vec![b'x'; 200];
    assert_eq!(check_head(&req, Some(&raw), &limits()), Ok(()));
    let raw = vec![b'x'; 201];
    assert_eq!(
        check_head(&req, Some(&raw), &limits()),
        Err(Refusal::HeaderTooLarge)
    );
    let padded = http11(&[("host", "a"), ("x-pad", &"p".repeat(200))]);
    assert_eq!(
        check_head(&padded, None, &limits()),
        Err(Refusal::HeaderTooLarge)
    );
}

#[test]
fn cookie_size_adds_up_every_cookie_field() {
    let fifty = "c=".to_owned() + &"v".repeat(48);
    let one = http11(&[("host", "a"), ("cookie", &fifty)]);
    assert_eq!(cookie_bytes(&one.headers), 50);
    assert_eq!(check_head(&one, None, &limits()), Ok(()));
    let two = http11(&[("host", "a"), ("cookie", &fifty), ("cookie", &fifty)]);
    assert_eq!(cookie_bytes(&two.headers), 100);
    assert_eq!(check_head(&two, None, &limits()), Ok(()));
    let three = http11(&[
        ("host", "a"),
        ("cookie", &fifty),
        ("cookie", &fifty),
        ("cookie", "x=1"),
    ]);
    assert_eq!(cookie_bytes(&three.headers), 103);
    assert!(
        parsed_head_len(&three) <= 200,
        "only the cookie limit is crossed"
    );
    assert_eq!(
        check_head(&three, None, &limits()),
        Err(Refusal::CookieTooLarge)
    );
}

#[test]
fn refusals_answer_with_the_documented_status_and_body() {
    let body = |r: Refusal| {
        let reply = r.reply();
        let json: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON body");
        (reply.status, json)
    };
    assert_eq!(
        body(Refusal::HeaderTooLarge),
        (
            431,
            serde_json::json!({"error": "request_header_fields_too_large"})
        )
    );
    assert_eq!(
        body(Refusal::CookieTooLarge),
        (
            431,
            serde_json::json!({"error": "request_header_fields_too_large"})
        )
    );
    assert_eq!(
        body(Refusal::Framing(Violation::ConflictingFraming)),
        (
            400,
            serde_json::json!({"error": "bad_request", "detail": "conflicting_framing"})
        )
    );
    assert_eq!(
        body(Refusal::MissingHost),
        (
            400,
            serde_json::json!({"error": "bad_request", "detail": "missing_host"})
        )
    );
    assert_eq!(
        body(Refusal::InvalidHost),
        (
            400,
            serde_json::json!({"error": "bad_request", "detail": "invalid_host"})
        )
    );
}
