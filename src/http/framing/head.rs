//! A request head as received: where it ends, what it may not contain, and how its body is
//! framed (RFC 9112 §2.2, §3.2, §6).
//!
//! The end is found as `httparse` finds it (empty lines before the request line skipped, a line
//! ended by LF with or without CR), so that for every head pingora accepts, both agree on where
//! the body starts. [`check`] is then stricter than pingora: it refuses the heads whose framing
//! another server could read differently.

use super::Violation;

/// Where a head ends in a buffer that starts with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// The head is `buf[..end]`, its empty line included.
    Complete(usize),
    /// Not yet: scan again from `resume` when more bytes arrived (so a head sent one byte at a
    /// time is not rescanned from its start on every byte).
    Partial { resume: usize },
}

/// Finds the end of the head at the start of `buf`, scanning from `from` (0, or a `resume`).
pub fn scan_end(buf: &[u8], from: usize) -> Scan {
    let start = if from == 0 {
        match skip_empty_lines(buf) {
            Some(start) => start,
            None => return Scan::Partial { resume: 0 },
        }
    } else {
        from
    };
    let mut at = start;
    while let Some(offset) = buf
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let lf = at + offset;
        match (buf.get(lf + 1), buf.get(lf + 2)) {
            (Some(b'\n'), _) => return Scan::Complete(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Scan::Complete(lf + 3),
            (None, _) | (Some(b'\r'), None) => return Scan::Partial { resume: lf },
            _ => at = lf + 1,
        }
    }
    Scan::Partial {
        resume: buf.len().max(start),
    }
}

/// The index of the request line's first byte; `None` while only empty lines (or a CR) arrived.
fn skip_empty_lines(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        match (buf.get(at), buf.get(at + 1)) {
            (Some(b'\r'), Some(b'\n')) => at += 2,
            (Some(b'\n'), _) => at += 1,
            (Some(b'\r'), None) | (None, _) => return None,
            _ => return Some(at),
        }
    }
}

/// What a head says about the bytes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub body: Body,
    /// The request asks to leave HTTP (`Upgrade`, or `CONNECT`): after a `101`, the connection
    /// carries another protocol.
    pub upgrade: bool,
}

/// How a request body is framed (RFC 9112 §6.3); a request with neither field has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Length(u64),
    Chunked,
}

/// Checks a complete head (`buf[..end]` of [`Scan::Complete`]) and reads its framing.
pub fn check(raw: &[u8]) -> Result<Head, Violation> {
    if has_bare_lf(raw) {
        return Err(Violation::BareLf);
    }
    // Every line now ends with CRLF.
    let start = skip_empty_lines(raw).unwrap_or(raw.len());
    let mut lines = raw[start..]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let method = request_target(request_line).ok_or(Violation::InvalidTarget)?;
    let (mut length, mut lengths, mut chunked, mut upgrade) =
        (None, 0, false, method == b"CONNECT");
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue; // not a field line: pingora refuses the head itself
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            lengths += 1;
            length = content_length(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade = true;
        }
    }
    let body = match (lengths, length, chunked) {
        (0, _, false) => Body::Length(0),
        (0, _, true) => Body::Chunked,
        (_, _, true) => return Err(Violation::ConflictingFraming),
        (1, Some(n), false) => Body::Length(n),
        _ => return Err(Violation::InvalidContentLength),
    };
    Ok(Head { body, upgrade })
}

/// True when some LF in `raw` is not preceded by CR.
pub fn has_bare_lf(raw: &[u8]) -> bool {
    raw.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'))
}

/// The method of `method SP request-target SP HTTP-version`, when the target is strict: not
/// empty, no control character, DEL or whitespace (pingora would percent-encode those and
/// forward the request). Bytes above 127 pass, as pingora passes them.
fn request_target(line: &[u8]) -> Option<&[u8]> {
    let first = line.iter().position(|&b| b == b' ')?;
    let last = line.iter().rposition(|&b| b == b' ')?;
    let target = line.get(first + 1..last)?;
    let strict = |b: &u8| (0x21..0x7f).contains(b) || *b >= 0x80;
    (!target.is_empty() && target.iter().all(strict)).then_some(&line[..first])
}

/// `1*DIGIT`, nothing else (no list, no sign, no space inside), as a number.
fn content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A field value without its leading and trailing spaces and tabs.
fn trim(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

#[cfg(test)]
mod tests;
