use super::*;

fn end_of(buf: &[u8]) -> Scan {
    scan_end(buf, 0)
}

#[test]
fn the_end_is_the_first_empty_line_with_either_line_ending() {
    assert_eq!(
        end_of(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"),
        Scan::Complete(27)
    );
    assert_eq!(
        end_of(b"GET / HTTP/1.1\nHost: a\n\nBODY"),
        Scan::Complete(24)
    );
    assert_eq!(
        end_of(b"GET / HTTP/1.1\r\nHost: a\n\r\nB"),
        Scan::Complete(26)
    );
    assert_eq!(
        end_of(b"GET / HTTP/1.1\r\nHost: a\r\n\nB"),
        Scan::Complete(26)
    );
}

#[test]
fn empty_lines_before_the_request_line_are_skipped_as_httparse_does() {
    assert_eq!(end_of(b"\r\n\nGET / HTTP/1.1\r\n\r\n"), Scan::Complete(21));
    assert_eq!(end_of(b"\r\n\r\n"), Scan::Partial { resume: 0 });
    assert_eq!(end_of(b"\r"), Scan::Partial { resume: 0 });
}

#[test]
fn a_partial_head_resumes_where_it_stopped() {
    let full = b"GET /x HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
    let mut resume = 0;
    for n in 1..full.len() {
        match scan_end(&full[..n], resume) {
            Scan::Partial { resume: r } => {
                assert!(r <= n, "{n}: {r}");
                resume = r;
            }
            Scan::Complete(end) => panic!("complete at {end} with {n} bytes"),
        }
    }
    assert_eq!(scan_end(full, resume), Scan::Complete(full.len()));
}

#[test]
fn strict_heads_pass_with_their_framing() {
    let head = |s: &str| check(s.as_bytes());
    assert_eq!(
        head("GET /a?b=c HTTP/1.1\r\nHost: a\r\n\r\n"),
        Ok(Head {
            body: Body::Length(0),
            upgrade: false
        })
    );
    assert_eq!(
        head("POST / HTTP/1.1\r\nContent-Length:  12 \r\n\r\n").map(|h| h.body),
        Ok(Body::Length(12))
    );
    assert_eq!(
        head("POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n").map(|h| h.body),
        Ok(Body::Chunked)
    );
    assert_eq!(
        head("GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
            .map(|h| h.upgrade),
        Ok(true)
    );
    assert_eq!(
        head("CONNECT a:443 HTTP/1.1\r\n\r\n").map(|h| h.upgrade),
        Ok(true)
    );
    // Bytes above 127 pass (pingora passes them; the path step decides).
    assert!(head("GET /caf\u{e9} HTTP/1.1\r\n\r\n").is_ok());
}

#[test]
fn a_bare_lf_anywhere_in_the_head_is_refused() {
    for raw in [
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\n",
        "\nGET / HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(check(raw.as_bytes()), Err(Violation::BareLf), "{raw:?}");
    }
}

#[test]
fn control_characters_and_whitespace_in_the_target_are_refused() {
    for target in ["/a\tb", "/a\x7fb", "/a b", "/a\x00", "/\x1b[31m", ""] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            check(raw.as_bytes()),
            Err(Violation::InvalidTarget),
            "{target:?}"
        );
    }
    assert_eq!(
        check(b"GET\t/\tHTTP/1.1\r\n\r\n"),
        Err(Violation::InvalidTarget)
    );
    assert_eq!(
        check(b"GET  / HTTP/1.1\r\n\r\n"),
        Err(Violation::InvalidTarget)
    );
}

#[test]
fn content_length_must_be_one_number() {
    for fields in [
        "Content-Length: 5, 5",
        "Content-Length: 5\r\nContent-Length: 5",
        "Content-Length: 5,5",
        "Content-Length: +5",
        "Content-Length: 0x5",
        "Content-Length: 5 5",
        "Content-Length:",
        "Content-Length: 99999999999999999999",
    ] {
        let raw = format!("POST / HTTP/1.1\r\n{fields}\r\n\r\n");
        assert_eq!(
            check(raw.as_bytes()),
            Err(Violation::InvalidContentLength),
            "{fields:?}"
        );
    }
}

#[test]
fn content_length_with_transfer_encoding_is_conflicting() {
    for fields in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\ncontent-length: 5",
        "Transfer-Encoding: chunked\r\nContent-Length: 5, 5",
    ] {
        let raw = format!("POST / HTTP/1.1\r\n{fields}\r\n\r\n");
        assert_eq!(
            check(raw.as_bytes()),
            Err(Violation::ConflictingFraming),
            "{fields:?}"
        );
    }
}

#[test]
fn bare_lf_is_found_only_where_no_cr_precedes() {
    assert!(!has_bare_lf(b"a\r\nb\r\n"));
    assert!(has_bare_lf(b"\n"));
    assert!(has_bare_lf(b"a\r\nb\n"));
    assert!(!has_bare_lf(b""));
}
