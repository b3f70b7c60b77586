//! W3C Trace Context (level 1) by hand: parsing a `traceparent` is a few length and hex checks,
//! and formatting one is 55 bytes on the stack. The `opentelemetry` propagator would need a
//! `Context`, a carrier map and `String`s for every request, exporter or not; this costs one
//! random number and, on a forwarded request, the one header value.
//!
//! Anything malformed starts a new trace (never a `400`: tracing must not refuse traffic). A
//! `tracestate` is kept only beside a valid `traceparent` and within the spec's bounds
//! ([`MAX_TRACESTATE_MEMBERS`], [`MAX_TRACESTATE_BYTES`]); otherwise it is dropped.

use http::{HeaderMap, HeaderValue};

/// Most list members a kept `tracestate` may have (W3C: 32).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// Longest kept `tracestate` (W3C: a propagator should keep at least 512 bytes).
pub const MAX_TRACESTATE_BYTES: usize = 512;
/// The `sampled` trace flag.
pub const SAMPLED: u8 = 0x01;
/// Length of a version-00 `traceparent`: `00-` 32 hex `-` 16 hex `-` 2 hex.
const TRACEPARENT_LEN: usize = 55;

/// The trace a request belongs to, and the gateway's span in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    /// The gateway's request span: the parent the upstream sees.
    pub span_id: u64,
    /// The client's span, when it sent a valid `traceparent`.
    pub parent_id: Option<u64>,
    pub flags: u8,
    /// The client's `tracestate`, forwarded as received (when within bounds).
    pub tracestate: Option<HeaderValue>,
}

/// A `traceparent`'s ids and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub parent_id: u64,
    pub flags: u8,
}

impl TraceContext {
    /// The request's context: the client's trace continued, or a new (sampled) one.
    pub fn from_headers(headers: &HeaderMap) -> TraceContext {
        let mut parents = headers.get_all("traceparent").iter();
        let parent = match (parents.next(), parents.next()) {
            (Some(v), None) => parse_traceparent(v.as_bytes()),
            _ => None,
        };
        match parent {
            Some(p) => TraceContext {
                trace_id: p.trace_id,
                span_id: new_span_id(),
                parent_id: Some(p.parent_id),
                flags: p.flags & SAMPLED,
                tracestate: tracestate(headers),
            },
            None => TraceContext::new_trace(),
        }
    }

    /// A new trace, marked sampled so that an upstream that logs trace ids logs this one.
    pub fn new_trace() -> TraceContext {
        let mut trace_id = 0;
        // A zero id is invalid; the loop ends on the first non-zero draw in practice.
        for _ in 0..8 {
            trace_id = rand::random::<u128>();
            if trace_id != 0 {
                break;
            }
        }
        TraceContext {
            trace_id: trace_id.max(1),
            span_id: new_span_id(),
            parent_id: None,
            flags: SAMPLED,
            tracestate: None,
        }
    }

    /// A span of this request's (a token-endpoint call): same trace, new span id, this request's
    /// span as its parent.
    pub fn child(&self) -> TraceContext {
        TraceContext {
            span_id: new_span_id(),
            parent_id: Some(self.span_id),
            ..self.clone()
        }
    }

    /// The `traceparent` naming this context's span as the parent.
    pub fn traceparent(&self) -> HeaderValue {
        let mut buf = [0u8; TRACEPARENT_LEN];
        buf[..3].copy_from_slice(b"00-");
        hex_into(&mut buf[3..35], &self.trace_id.to_be_bytes());
        buf[35] = b'-';
        hex_into(&mut buf[36..52], &self.span_id.to_be_bytes());
        buf[52] = b'-';
        hex_into(&mut buf[53..55], &[self.flags]);
        HeaderValue::from_bytes(&buf).expect("hex digits and dashes are a valid header value")
    }
}

/// A new span id: random, never zero.
pub fn new_span_id() -> u64 {
    rand::random::<u64>().max(1)
}

/// Parses a `traceparent` (W3C Trace Context §3.2). Version `00` is exactly 55 bytes; a later
/// version is read as `00` when its first 55 bytes are and a `-` follows them; `ff` is invalid,
/// as are upper-case hex and all-zero ids.
pub fn parse_traceparent(v: &[u8]) -> Option<TraceParent> {
    if v.len() < TRACEPARENT_LEN {
        return None;
    }
    let version = hex_u8(&v[0..2])?;
    let fits = match version {
        0 => v.len() == TRACEPARENT_LEN,
        0xff => false,
        _ => v.len() == TRACEPARENT_LEN || v[TRACEPARENT_LEN] == b'-',
    };
    if !fits || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let trace_id = u128::from_be_bytes(hex_array(&v[3..35])?);
    let parent_id = u64::from_be_bytes(hex_array(&v[36..52])?);
    let flags = hex_u8(&v[53..55])?;
    (trace_id != 0 && parent_id != 0).then_some(TraceParent {
        trace_id,
        parent_id,
        flags,
    })
}

/// The request's `tracestate` (one header), when within the bounds; else none.
fn tracestate(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all("tracestate").iter();
    match (values.next(), values.next()) {
        (Some(v), None) if tracestate_ok(v.as_bytes()) => Some(v.clone()),
        _ => None,
    }
}

/// At most [`MAX_TRACESTATE_MEMBERS`] members of `key=value`, at most [`MAX_TRACESTATE_BYTES`].
/// Empty members (`a=1,,b=2`) are allowed and not counted, as the spec says.
pub fn tracestate_ok(v: &[u8]) -> bool {
    if v.is_empty() || v.len() > MAX_TRACESTATE_BYTES {
        return false;
    }
    let mut members = 0;
    for m in v.split(|&b| b == b',') {
        let m = m.trim_ascii();
        if m.is_empty() {
            continue;
        }
        members += 1;
        let key_ok = m.iter().position(|&b| b == b'=').is_some_and(|i| i > 0);
        if !key_ok || members > MAX_TRACESTATE_MEMBERS {
            return false;
        }
    }
    members > 0
}

fn hex_into(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
}

/// Lower-case hex only (W3C: upper case is invalid).
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_u8(two: &[u8]) -> Option<u8> {
    Some(hex_digit(two[0])? << 4 | hex_digit(two[1])?)
}

fn hex_array<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *o = hex_u8(pair)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
