use super::*;

const GET: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

fn heads(conn: &mut Connection) -> Vec<(String, Option<Violation>)> {
    std::iter::from_fn(|| conn.take_head())
        .map(|o| (String::from_utf8_lossy(&o.head).into_owned(), o.violation))
        .collect()
}

#[test]
fn requests_follow_each_other_whatever_the_read_sizes() {
    let post = b"POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    let chunked = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let stream = [GET, &post[..], &chunked[..], GET].concat();
    for size in [1, 2, 7, 64, stream.len()] {
        let mut conn = Connection::new();
        let mut seen = Vec::new();
        for piece in stream.chunks(size) {
            assert_eq!(conn.feed(piece), Ok(()), "read size {size}");
            seen.extend(heads(&mut conn));
        }
        let targets: Vec<&str> = seen
            .iter()
            .map(|(h, v)| {
                assert_eq!(*v, None, "{h}");
                h.split(' ').nth(1).unwrap_or_default()
            })
            .collect();
        assert_eq!(targets, ["/a", "/b", "/c", "/a"], "read size {size}");
    }
}

#[test]
fn the_head_is_kept_as_received_even_when_pingora_would_rewrite_it() {
    let mut conn = Connection::new();
    assert_eq!(conn.feed(b"GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), Ok(()));
    let observed = conn.take_head().expect("a head");
    assert_eq!(&observed.head[..], b"GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(observed.violation, Some(Violation::InvalidTarget));
    // Nothing after a refused head is followed: the connection closes with the answer.
    assert_eq!(conn.feed(GET), Err(Violation::InvalidTarget));
}

#[test]
fn a_bad_chunk_line_fails_the_read_that_carries_it() {
    let mut conn = Connection::new();
    let head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(conn.feed(head), Ok(()));
    assert_eq!(conn.take_head().map(|o| o.violation), Some(None));
    assert_eq!(conn.feed(b"3\r\nabc\r\n"), Ok(()));
    assert_eq!(conn.feed(b"5;x=y\nhello\r\n"), Err(Violation::InvalidChunk));
    assert_eq!(conn.violation(), Some(Violation::InvalidChunk));
    assert_eq!(conn.feed(b"0\r\n\r\n"), Err(Violation::InvalidChunk));
}

#[test]
fn a_bad_chunk_line_read_with_its_head_goes_with_the_head() {
    let mut conn = Connection::new();
    let all = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\nhello\r\n0\r\n\r\n";
    assert_eq!(conn.feed(all), Ok(()));
    let observed = conn.take_head().expect("a head");
    assert_eq!(observed.violation, Some(Violation::InvalidChunk));
    assert!(observed.head.ends_with(b"chunked\r\n\r\n"));
    assert_eq!(conn.feed(b"x"), Err(Violation::InvalidChunk));
}

#[test]
fn ambiguous_lengths_are_handed_on_with_the_head() {
    for fields in [
        "Content-Length: 5, 5",
        "Content-Length: 5\r\nContent-Length: 5",
    ] {
        let mut conn = Connection::new();
        let raw = format!("POST / HTTP/1.1\r\n{fields}\r\n\r\nhello");
        assert_eq!(conn.feed(raw.as_bytes()), Ok(()));
        assert_eq!(
            conn.take_head().and_then(|o| o.violation),
            Some(Violation::InvalidContentLength)
        );
    }
}

#[test]
fn after_an_upgrade_the_connection_is_a_tunnel() {
    let mut conn = Connection::new();
    let upgrade = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n";
    assert_eq!(conn.feed(upgrade), Ok(()));
    assert!(conn.take_head().is_some());
    conn.upgraded();
    // WebSocket frames: nothing like HTTP, never refused.
    assert_eq!(conn.feed(b"\x81\x85\x37\xfa\x21\x3d\x7f\n\n\r"), Ok(()));
    assert_eq!(conn.feed(&[0u8; 4096]), Ok(()));
    assert!(conn.take_head().is_none());
}

#[test]
fn an_upgrade_that_was_refused_resumes_with_the_next_request() {
    let mut conn = Connection::new();
    let upgrade = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
    let next = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;\nxx\r\n";
    assert_eq!(conn.feed(upgrade), Ok(()));
    assert_eq!(conn.feed(next), Ok(()), "not judged before the answer");
    assert_eq!(heads(&mut conn).len(), 1);
    conn.answered();
    let after = heads(&mut conn);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].1, Some(Violation::InvalidChunk));
    assert_eq!(conn.feed(b"0\r\n\r\n"), Err(Violation::InvalidChunk));
}

#[test]
fn an_endless_head_breaks_the_connection() {
    let mut conn = Connection::new();
    assert_eq!(conn.feed(b"GET / HTTP/1.1\r\nX: "), Ok(()));
    let pad = vec![b'a'; 64 * 1024];
    let mut result = Ok(());
    for _ in 0..(MAX_HEAD / pad.len() + 2) {
        result = conn.feed(&pad);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(Violation::Unobserved));
}

#[test]
fn too_many_waiting_heads_break_the_connection() {
    let mut conn = Connection::new();
    let many = GET.repeat(MAX_WAITING + 1);
    assert_eq!(conn.feed(&many), Ok(()));
    let waiting = heads(&mut conn);
    assert_eq!(waiting.len(), MAX_WAITING);
    assert_eq!(
        waiting.last().and_then(|w| w.1),
        Some(Violation::Unobserved)
    );
    assert_eq!(conn.feed(GET), Err(Violation::Unobserved));
}
