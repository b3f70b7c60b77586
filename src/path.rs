//! Request paths as the gateway understands them, before it trusts them for anything.
//!
//! Routing and forwarding must agree on what a path *means*, or `/api/orders/../admin` is matched
//! by the orders route and then resolved by the upstream into the admin API. So every path is put
//! into one canonical form first (RFC 3986 §6.2.2) and that same string is used to pick the route
//! and to build the upstream request. Anything that different servers could read differently (an
//! encoded `/` or `\`, a raw `\`, a broken `%` escape) is refused instead of guessed at.
//!
//! The other half of this file guards the one place where the gateway sends the browser to a path
//! chosen by a URL parameter (`/auth/login?returnTo=`), which must never become an open redirect.

/// Why a path was refused; the proxy answers every kind with `400 {"error":"bad_path"}`, the kind
/// is for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPath {
    /// The path is empty or does not start with `/` (`*` and absolute-form are not proxied).
    #[error("path does not start with '/'")]
    NotAbsolute,
    /// A byte that no conforming client sends raw in a path: controls, space, `\`, `<`, `>`,
    /// `` ` ``, `#`, `?`, or non-ASCII.
    #[error("path contains a forbidden byte")]
    ForbiddenByte,
    /// `%` not followed by two hex digits.
    #[error("invalid percent-encoding in path")]
    InvalidEscape,
    /// `%2F` or `%5C`: one server splits segments on it, another does not, so it cannot be
    /// routed safely.
    #[error("encoded '/' or '\\' in path")]
    EncodedSeparator,
}

/// How a raw path byte is treated by [`normalize_path`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Kept as is.
    Plain,
    /// `.`: may start a dot-segment.
    Dot,
    /// `%`: starts an escape that has to be decoded or re-cased.
    Percent,
    Forbidden,
}

/// [`class_of`] for every byte, so the hot loop is one load per byte.
const CLASSES: [Class; 256] = {
    let mut table = [Class::Forbidden; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = class_of(b as u8);
        b += 1;
    }
    table
};

/// The bytes accepted raw in a path: what the `http` crate accepts in a path (so the result can
/// always be put back into an upstream request URI), minus `\`, which some servers read as `/`,
/// and minus non-ASCII, which browsers always percent-encode.
const fn class_of(b: u8) -> Class {
    match b {
        b'.' => Class::Dot,
        b'%' => Class::Percent,
        b'\\' => Class::Forbidden,
        b'!' | b'"' | b'$'..=b';' | b'=' | b'@'..=b'_' | b'a'..=b'z' | b'{'..=b'}' | b'~' => {
            Class::Plain
        }
        _ => Class::Forbidden,
    }
}

/// Puts a request path (without its query) into the canonical form used for routing and
/// forwarding: percent-encoded unreserved characters decoded, other escapes kept with upper-case
/// hex, dot-segments removed (also those spelled `%2e`). Repeated slashes are kept: collapsing
/// them would change the meaning of the path for upstreams that do not.
///
/// A path that needs no change comes back after a single scan.
pub fn normalize_path(raw: &str) -> Result<String, BadPath> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(BadPath::NotAbsolute);
    }
    let mut needs_rewrite = false;
    for (i, &b) in bytes.iter().enumerate() {
        match CLASSES[usize::from(b)] {
            Class::Plain => {}
            Class::Percent => needs_rewrite = true,
            Class::Dot => {
                needs_rewrite |=
                    bytes.get(i.wrapping_sub(1)) == Some(&b'/') && is_dot_segment(bytes, i)
            }
            Class::Forbidden => return Err(BadPath::ForbiddenByte),
        }
    }
    if !needs_rewrite {
        return Ok(raw.to_owned());
    }
    let decoded = decode_unreserved(bytes)?;
    Ok(remove_dot_segments(&decoded))
}

/// True when the segment starting at `start` is exactly `.` or `..`.
fn is_dot_segment(bytes: &[u8], start: usize) -> bool {
    let rest = bytes.get(start..).unwrap_or_default();
    let segment = rest.split(|&b| b == b'/').next().unwrap_or_default();
    segment == b"." || segment == b".."
}

/// Decodes escapes of unreserved characters and upper-cases the hex of all others. The input has
/// passed the byte check, so the output is ASCII.
fn decode_unreserved(bytes: &[u8]) -> Result<String, BadPath> {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
        let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return Err(BadPath::InvalidEscape);
        };
        let value = hi << 4 | lo;
        match value {
            b'/' | b'\\' => return Err(BadPath::EncodedSeparator),
            v if is_unreserved(v) => out.push(char::from(v)),
            v => push_escape(&mut out, v),
        }
        i += 3;
    }
    Ok(out)
}

/// Appends `%XY` with upper-case hex, the canonical form of an escape (RFC 3986 §6.2.2.1).
fn push_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    // A nibble is below 16: both lookups are in bounds.
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0F)]));
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §2.3: the characters whose encoded and raw forms are equivalent.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 §5.2.4 for a path that starts with `/`, done on segments: a `.` or `..` that ends the
/// path leaves a trailing `/` (`/a/b/..` is `/a/`), and `..` never climbs above the root.
fn remove_dot_segments(path: &str) -> String {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            "." => {}
            ".." => out.truncate(out.rfind('/').unwrap_or(0)),
            other => {
                out.push('/');
                out.push_str(other);
                continue;
            }
        }
        if last {
            out.push('/');
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Longest `returnTo` kept: it travels in the login transaction cookie, which must stay well under
/// the browser's 4 KiB cookie limit or the login silently fails at the callback.
pub const MAX_RETURN_TO: usize = 2048;

/// The post-login destination: `raw` when it is a path on this origin, else `/`.
///
/// `raw` is the already percent-decoded `returnTo` value. Refused: anything not starting with
/// exactly one `/` (so no scheme, no `//host`), any `\` (browsers read `/\host` as `//host`), any
/// control character (browsers drop TAB/CR/LF, turning `/\t/host` into `//host`, and CR/LF would
/// split the `Location` header), and anything longer than [`MAX_RETURN_TO`]. Spaces and non-ASCII
/// characters are percent-encoded so that the result is always a valid `Location` header value.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(value) if is_same_origin_path(value) => encode_for_location(value),
        _ => "/".to_owned(),
    }
}

fn is_same_origin_path(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && bytes.len() <= MAX_RETURN_TO
        && !bytes.iter().any(|&b| b == b'\\' || b.is_ascii_control())
}

fn encode_for_location(value: &str) -> String {
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 16);
    for b in value.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            push_escape(&mut out, b);
        }
    }
    out
}

/// The gateway's own public endpoint outside `/auth`: the keys of the identity assertion.
pub const JWKS_PATH: &str = "/.well-known/tokengate/jwks.json";

/// True for the paths the gateway answers itself (`/auth` and `/.well-known/tokengate`, and
/// below), which are never proxied. Give it the normalised path, so that `/x/../auth/logout`
/// counts too.
pub fn is_gateway_path(path: &str) -> bool {
    ["/auth", "/.well-known/tokengate"]
        .iter()
        .any(|prefix| match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        })
}

#[cfg(test)]
mod tests;
