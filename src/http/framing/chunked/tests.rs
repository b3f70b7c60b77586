use super::*;

/// Feeds `body` whole; `Ok(Some(n))` when it ended after `n` bytes.
fn read(body: &[u8]) -> Result<Option<usize>, Violation> {
    ChunkedBody::new().feed(body)
}

/// Feeds `body` one byte at a time: the same answer as [`read`], whatever the split.
fn read_bytewise(body: &[u8]) -> Result<Option<usize>, Violation> {
    let mut reader = ChunkedBody::new();
    for (i, b) in body.iter().enumerate() {
        if let Some(0) = reader.feed(std::slice::from_ref(b))? {
            return Ok(Some(i));
        }
        if reader.is_done() {
            return Ok(Some(i + 1));
        }
    }
    Ok(None)
}

fn both(body: &[u8]) -> Result<Option<usize>, Violation> {
    let whole = read(body);
    assert_eq!(
        whole,
        read_bytewise(body),
        "split reads disagree on {:?}",
        body.escape_ascii()
    );
    whole
}

#[test]
fn strict_bodies_end_where_the_trailer_section_ends() {
    for body in [
        "0\r\n\r\n",
        "5\r\nhello\r\n0\r\n\r\n",
        "5;a=b\r\nhello\r\n0\r\n\r\n",
        "5 ; a = b ; c\r\nhello\r\n0;d\r\n\r\n",
        "5;a=\"q \\\" ;\\\\ x\"\r\nhello\r\n0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\nExpires: never\r\nX: y\r\n\r\n",
        "000000000000005\r\nhello\r\n0000\r\n\r\n",
        "5  \r\nhello\r\n0\r\n\r\n",
    ] {
        assert_eq!(both(body.as_bytes()), Ok(Some(body.len())), "{body:?}");
    }
}

#[test]
fn what_follows_the_body_is_not_read() {
    let body = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    assert_eq!(read(body), Ok(Some(13)));
}

#[test]
fn an_unfinished_body_asks_for_more() {
    for body in [
        "",
        "5",
        "5\r",
        "5\r\nhel",
        "5\r\nhello\r\n",
        "0\r\n",
        "0\r\nX: y\r\n",
    ] {
        assert_eq!(both(body.as_bytes()), Ok(None), "{body:?}");
    }
}

#[test]
fn bare_lf_or_cr_in_a_chunk_line_or_extension_is_refused() {
    for body in [
        "5;x=y\nhello\r\n0\r\n\r\n",
        "2;\nxx\r\n45\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",
        "5;x\rhello\r\n0\r\n\r\n",
        "5;x=\"a\r\nb\"\r\nhello\r\n0\r\n\r\n",
        "5;x=\"a\nb\"\r\nhello\r\n0\r\n\r\n",
        "0\n\r\n",
        "0\r\n\n",
    ] {
        assert_eq!(
            both(body.as_bytes()),
            Err(Violation::InvalidChunk),
            "{body:?}"
        );
    }
}

#[test]
fn malformed_sizes_and_extensions_are_refused() {
    for body in [
        "\r\nhello\r\n",
        ";x\r\n",
        "0x5\r\nhello\r\n",
        "-5\r\n",
        "5 0\r\n",
        "5;\r\nhello\r\n",
        "5;;x\r\n",
        "5;x=\r\n",
        "5;x=\"open\r\n",
        "5;x=a=b\r\n",
        "5;x y\r\n",
        "5;x=a b\r\n",
        "5;@\r\n",
        "10000000000000000\r\n",
        "5\r\nhelloX\r\n",
        "5\r\nhello\n0\r\n\r\n",
        "0\r\n X: folded\r\n\r\n",
        "0\r\nX: a\x01\r\n\r\n",
        "0\r\nX: a\nY: b\r\n\r\n",
    ] {
        assert_eq!(
            both(body.as_bytes()),
            Err(Violation::InvalidChunk),
            "{body:?}"
        );
    }
}

#[test]
fn sixteen_digits_are_the_most() {
    let mut reader = ChunkedBody::new();
    assert_eq!(reader.feed(b"FFFFFFFFFFFFFFFF\r\nabc"), Ok(None));
}

#[test]
fn lines_and_trailers_are_bounded() {
    let long_ext = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(MAX_LINE));
    assert_eq!(read(long_ext.as_bytes()), Err(Violation::InvalidChunk));
    let fits = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(MAX_LINE - 4));
    assert_eq!(read(fits.as_bytes()), Ok(Some(fits.len())));
    let trailers = format!("0\r\nX: {}\r\n\r\n", "t".repeat(MAX_TRAILERS));
    assert_eq!(read(trailers.as_bytes()), Err(Violation::InvalidChunk));
}

#[test]
fn data_may_hold_any_bytes_including_line_endings() {
    let body = b"6\r\n\n\r\0\r\n\n\r\n0\r\n\r\n";
    assert_eq!(both(body), Ok(Some(body.len())));
}
