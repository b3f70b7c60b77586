//! HTTP/1.1 message framing as the bytes arrived on the wire (RFC 9112), judged strictly.
//!
//! pingora 0.9 parses requests with `httparse`, which is lenient where two servers can disagree
//! about where a message ends: it accepts bare LF line endings in the head, and any byte but CR
//! in a chunk extension (so `5;x\nhello` is one chunk line to it and two lines to a parser that
//! ends lines at LF: the request-smuggling desync of RFC 9112 §7.1.1 and §11.2); it rewrites a
//! request target holding control characters or spaces instead of refusing it; and it accepts
//! `Content-Length: 5, 5` and repeated `Content-Length` fields, forwarding them as they came.
//! None of this can be configured in pingora, so the gateway reads the same bytes a second time,
//! here, and refuses what is not strict:
//!
//! * [`head`]: where a request head ends, and what a head may not contain (bare LF, a target
//!   with control characters or whitespace, an ambiguous `Content-Length`, `Content-Length`
//!   together with `Transfer-Encoding`), and so how its body is framed.
//! * [`chunked`]: a chunked body, chunk line by chunk line, as it arrives.
//! * [`connection`]: one connection's bytes, request after request: heads, bodies, and the
//!   tunnel after a `101`.
//!
//! Everything here is pure (bytes in, verdict out). The listener (`proxy::tap`) feeds it every
//! byte it reads from a client before pingora sees them.

pub mod chunked;
pub mod connection;
pub mod head;

/// Why the bytes of a request were refused (`400 {"error":"bad_request","detail":..}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A line of the head ends with LF alone (RFC 9112 §2.2 allows refusing it; we do).
    BareLf,
    /// The request target holds a control character, DEL or whitespace (RFC 9112 §3.2).
    InvalidTarget,
    /// `Content-Length` is a list, repeated, or not a number (RFC 9112 §6.3).
    InvalidContentLength,
    /// `Content-Length` together with `Transfer-Encoding` (RFC 9112 §6.1).
    ConflictingFraming,
    /// A chunk line, the CRLF after chunk data, or a trailer line is not strict RFC 9112 §7.1
    /// (a bare LF or CR, a malformed size or extension, an overlong line).
    InvalidChunk,
    /// The head could not be followed: too long, or the connection's framing was lost earlier.
    Unobserved,
}

impl Violation {
    /// The `detail` of the `400` answer, and the label of the refusal metric.
    pub fn detail(self) -> &'static str {
        match self {
            Violation::BareLf => "bare_lf",
            Violation::InvalidTarget => "invalid_target",
            Violation::InvalidContentLength => "invalid_content_length",
            Violation::ConflictingFraming => "conflicting_framing",
            Violation::InvalidChunk => "invalid_chunk",
            Violation::Unobserved => "unobserved_framing",
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2: what a token (a field name, a chunk-extension name) is made of.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
