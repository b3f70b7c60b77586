//! Claims as upstream request headers, and the identity headers no client may send.
//!
//! A claim becomes a header value as text: a string as it is, `true`/`false`, a number in
//! decimal, an array as its items joined with `,`. A header is left out, never half-sent, when
//! the user has no such claim or when the value could be misread: a control character (CR, LF,
//! NUL, ... could end the header or the request), an invisible formatting character (zero-width
//! or bidirectional), an array item holding `,` (it would read as two items), or more than
//! [`MAX_VALUE_LEN`] bytes. Other non-ASCII text is sent as UTF-8.

use crate::policy::{Claim, ClaimSource};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// The longest identity header value sent; upstreams commonly refuse heads over 8 KiB.
pub const MAX_VALUE_LEN: usize = 4096;

/// The header value for claim `name` of `claims`, or `None` when it is absent or unsafe.
pub fn claim_value(claims: &impl ClaimSource, name: &str) -> Option<HeaderValue> {
    match claims.claim(name) {
        Claim::Text(text) => text_value(text),
        Claim::Json(value) => json_value(value),
        Claim::Absent | Claim::Unknown => None,
    }
}

fn json_value(value: &Value) -> Option<HeaderValue> {
    match value {
        Value::Array(items) => {
            let mut joined = String::new();
            for item in items {
                let text = scalar_text(item)?;
                if text.contains(',') {
                    return None;
                }
                if !joined.is_empty() {
                    joined.push(',');
                }
                joined.push_str(&text);
            }
            text_value(&joined)
        }
        scalar => text_value(&scalar_text(scalar)?),
    }
}

fn scalar_text(value: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        Value::String(s) => Some(s.as_str().into()),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        Value::Number(n) => Some(n.to_string().into()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A character that could end the header (control characters) or hide what the value says:
/// invisible formatting (zero-width spaces and joiners, bidirectional overrides and isolates,
/// the soft hyphen, the byte-order mark), so that `admin\u{200b}` cannot pass for `admin` in an
/// upstream's log or comparison.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Text as a header value: refused with any control character, over the length limit, or when
/// empty (an empty header says nothing an absent one does not).
fn text_value(text: &str) -> Option<HeaderValue> {
    if text.is_empty() || text.len() > MAX_VALUE_LEN || text.chars().any(unsafe_char) {
        return None;
    }
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

/// The identity headers removed from every client request before it is forwarded, on every
/// route (also `auth: none`): every header any route's `identity_headers:` names, and every
/// `X-Tokengate-*` header. Built once per loaded config.
#[derive(Clone, Debug, Default)]
pub struct StrippedHeaders {
    names: Vec<HeaderName>,
}

/// Headers of the gateway's own namespace, never taken from a client.
const GATEWAY_PREFIX: &str = "x-tokengate-";

impl StrippedHeaders {
    pub fn new(names: impl IntoIterator<Item = HeaderName>) -> StrippedHeaders {
        let mut names: Vec<HeaderName> = names.into_iter().collect();
        names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        names.dedup();
        StrippedHeaders { names }
    }

    /// True when a client's header `name` must not reach an upstream.
    pub fn strips(&self, name: &HeaderName) -> bool {
        name.as_str().starts_with(GATEWAY_PREFIX) || self.names.contains(name)
    }

    /// The stripped headers `headers` holds, once each (to remove them).
    pub fn present(&self, headers: &HeaderMap) -> Vec<HeaderName> {
        let mut found: Vec<HeaderName> = Vec::new();
        for name in headers.keys() {
            if self.strips(name) && !found.contains(name) {
                found.push(name.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests;
