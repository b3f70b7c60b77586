//! The hostile-input entry points of tokengate: one function per parser that reads bytes an
//! attacker controls (a session cookie, a token-endpoint answer, a JWT, a request path, a
//! `returnTo` value, the raw bytes of a client connection) or an operator may get wrong
//! (`routes.yaml`).
//!
//! Each function takes arbitrary bytes and *panics when the code under test breaks a promise*:
//! not only "does not crash", but the property the gateway's security rests on (a tampered
//! cookie never opens, a normalised path never resolves further upstream, a `returnTo` never
//! leaves the origin, a token never reaches `Debug` output). The same functions run under
//! libFuzzer (`fuzz/fuzz_targets/*`, `cargo fuzz run <name>`) and, bounded, as property tests in
//! the root test suite (`tests/hostile.rs` includes this file), so CI checks the properties
//! without nightly.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::sync::OnceLock;
use tokengate::path::{normalize_path, safe_return_to};
use tokengate::session::codec::KeyRing;
use tokengate::session::cookie::chunks::{self, chunk_name, join_chunks, split_chunks};
use tokengate::session::cookie::header;
use tokengate::session::cookie::{CookieSession, SessionCookies};
use tokengate::session::lifetime::Lifetime;
use tokengate::session::model::{Session, TokenSet, User};
use tokengate::session::opened::OpenedSessions;
use tokengate::tokens::response::{judge, jwt_audiences, jwt_claims, Exchange};
use tokengate::tokens::scope::Scope;

/// A fixed clock, so a run is reproducible.
pub const NOW: u64 = 1_700_000_000;
/// The session cookie name the session targets use.
pub const COOKIE: &str = "tg";
/// The session key the session targets use.
pub const KEY: [u8; 32] = [7; 32];
const AUDIENCE: &str = "https://api.example";

/// A valid session, sealed once per process, large enough to need three chunks.
pub struct Fixture {
    pub ring: KeyRing,
    pub session: Session,
    pub sealed: String,
    /// Shared by every input, as the gateway shares it by every request: the fixture's value is
    /// in it, and no mutated cookie may come out of it as that session.
    pub opened: OpenedSessions,
}

impl Fixture {
    /// The `(name, value)` pairs a browser holds for the fixture session.
    pub fn chunks(&self) -> Vec<(String, &str)> {
        split_chunks(&self.sealed)
            .into_iter()
            .enumerate()
            .map(|(k, v)| (chunk_name(COOKIE, k), v))
            .collect()
    }

    /// The `Cookie` header a browser sends for the fixture session.
    pub fn cookie_header(&self) -> String {
        self.chunks()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ring = KeyRing::new(&[KEY]).expect("a 32-byte key makes a ring");
        let session = fixture_session();
        let sealed = ring
            .seal_session(COOKIE, &session)
            .expect("the fixture session fits a cookie");
        Fixture {
            ring,
            session,
            sealed,
            opened: OpenedSessions::new(),
        }
    })
}

/// Fixed content (no random id), so that a value sealed in an earlier run opens to the same.
fn fixture_session() -> Session {
    let token = |aud: &str, n: usize| TokenSet {
        audience: Some(aud.to_owned()),
        scope: Scope::parse("read:x"),
        requested: Scope::parse("read:x"),
        access_token: format!("{aud}-").repeat(n),
        expires_at: NOW + 3600,
        last_used: NOW,
    };
    Session {
        sid: "fuzz-session".into(),
        version: 3,
        created_at: NOW - 60,
        last_seen: NOW - 60,
        user: User {
            sub: "user-1".into(),
            ..User::default()
        },
        claims: Default::default(),
        refresh_token: Some("refresh-token-1".into()),
        id_token: None,
        primary: Some(token(AUDIENCE, 10)),
        extra: vec![
            token("https://a.example", 150),
            token("https://b.example", 150),
        ],
    }
}

const LIFETIME: Lifetime = Lifetime {
    absolute: std::time::Duration::from_secs(7 * 24 * 3600),
    idle: None,
};

/// Session cookies. The first byte picks how the rest is read: `Cookie` header lines as sent
/// (0), edits applied to the fixture's valid header (1), or a reshuffle of the fixture's
/// chunks among unrelated cookies that must still open (2).
pub fn session_cookie(data: &[u8]) {
    let f = fixture();
    let (mode, rest) = data.split_first().unwrap_or((&0, &[]));
    match mode % 3 {
        0 => {
            check_cookie_headers(f, rest.split(|&b| b == b'\n').collect());
        }
        1 => {
            let edited = apply_edits(f.cookie_header().as_bytes(), rest);
            check_cookie_headers(f, vec![&edited]);
        }
        _ => {
            let headers = reshuffle(f, rest);
            let refs: Vec<&[u8]> = headers.iter().map(|h| h.as_bytes()).collect();
            let read = check_cookie_headers(f, refs);
            assert!(
                matches!(read, CookieSession::Valid { .. }),
                "a reshuffled valid cookie must open: {headers:?} -> {read:?}"
            );
        }
    }
}

/// Reads the headers as the proxy does and checks what may come out of it.
fn check_cookie_headers(f: &Fixture, lines: Vec<&[u8]>) -> CookieSession {
    let mut headers = http::HeaderMap::new();
    for line in lines {
        if let Ok(v) = http::HeaderValue::from_bytes(line) {
            headers.append(http::header::COOKIE, v);
        }
    }
    let cookies = |reference| SessionCookies {
        name: COOKIE.to_owned(),
        secure: false,
        reference,
        // No cap: every chunk index the parser recognises is read.
        max_chunks: chunks::MAX_CHUNK_INDEX,
    };
    let (as_session, as_redis) = (cookies(false), cookies(true));
    let read = as_session
        .reader(&f.ring, &f.opened, &LIFETIME)
        .read(&headers, NOW);
    // Read as a Redis reference (`store: redis`), the same bytes never name a session: a
    // session cookie's purpose is not a reference's.
    let as_reference = as_redis
        .reader(&f.ring, &f.opened, &LIFETIME)
        .read(&headers, NOW);
    assert!(
        !matches!(as_reference, CookieSession::Reference { .. }),
        "a session cookie was read as a reference"
    );
    assert_eq!(as_reference.chunks(), read.chunks());
    let chunks = read.chunks();
    assert!(chunks.windows(2).all(|w| w[0] < w[1]), "{chunks:?}");
    assert!(chunks.iter().all(|&k| k <= chunks::MAX_CHUNK_INDEX));
    let texts: Vec<&str> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if let CookieSession::Valid { session, .. } = &read {
        // Authenticated encryption: the only session that can open is the one the key sealed,
        // and only from chunks that join to a value the key produced.
        assert!(**session == f.session, "forged session opened");
        let pairs = texts.iter().flat_map(|t| header::parse_cookie_header(t));
        let joined = join_chunks(COOKIE, pairs)
            .ok()
            .flatten()
            .unwrap_or_default();
        assert!(
            joined == f.sealed || f.ring.open(COOKIE, &joined).is_ok(),
            "opened from a value the key never sealed"
        );
    }
    // What goes upstream never carries a session chunk or a login-transaction cookie.
    for text in texts {
        let drop = |n: &str| chunks::is_gateway_cookie(COOKIE, n);
        if let Some(kept) = header::strip_cookies(text, drop) {
            assert!(
                header::parse_cookie_header(&kept).all(|(n, _)| !drop(n)),
                "session cookie left in {kept:?}"
            );
        }
    }
    read
}

/// Applies `edits` (4 bytes each: op, position hi/lo, value) to `base`: replace, insert,
/// delete, or truncate at a position.
pub fn apply_edits(base: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for edit in edits.chunks_exact(4).take(64) {
        let (op, value) = (edit[0], edit[3]);
        let pos = usize::from(u16::from_be_bytes([edit[1], edit[2]])) % (out.len() + 1);
        match op % 4 {
            0 if pos < out.len() => out[pos] = value,
            1 => out.insert(pos, value),
            2 if pos < out.len() => {
                out.remove(pos);
            }
            3 => out.truncate(pos),
            _ => {}
        }
    }
    out
}

/// The fixture's chunks in an order and header split chosen by `data`, among unrelated cookies
/// (names starting with `x`, so never the gateway's) and with irregular spacing.
fn reshuffle(f: &Fixture, data: &[u8]) -> Vec<String> {
    let mut pieces: Vec<String> = f
        .chunks()
        .into_iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0);
    for i in (1..pieces.len()).rev() {
        pieces.swap(i, usize::from(next()) % (i + 1));
    }
    for _ in 0..next() % 4 {
        let at = usize::from(next()) % (pieces.len() + 1);
        pieces.insert(at, format!("x{}={}", next(), next()));
    }
    let mut headers = vec![String::new()];
    for piece in pieces {
        let split = next();
        if split % 3 == 0 && !headers.last().is_some_and(String::is_empty) {
            headers.push(String::new());
        }
        let header = headers.last_mut().expect("starts non-empty, only grows");
        if !header.is_empty() {
            header.push(';');
            header.push_str(if split % 2 == 0 { " " } else { "\t " });
        }
        header.push_str(&piece);
    }
    headers
}

/// The `routes.yaml` loader: any text gives either a config the gateway can build its state from,
/// or a non-empty list of errors; never a panic.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let env = |name: &str| name.strip_prefix("SET_").map(str::to_owned);
    match tokengate::config::parse_str(&text, &env) {
        Err(errors) => {
            assert!(!errors.0.is_empty());
            assert!(!errors.to_string().is_empty());
        }
        Ok(config) => {
            assert!(!config.routes.is_empty());
            assert!(!config.session.keys.is_empty());
            assert!(!config.session.cookie_name.is_empty());
            assert!(config.routes.iter().all(|r| r.path_prefix.starts_with('/')));
            let limits = &config.limits;
            assert!(limits.max_cookie_chunks >= 1);
            assert!(limits.max_cookie_chunks <= tokengate::session::codec::MAX_CHUNKS);
            assert!(limits.max_cookie_bytes <= limits.max_header_bytes);
            assert!(!limits.client_header_timeout.is_zero());
            assert!(tokengate::app::Loaded::new(config).is_ok());
        }
    }
}

/// The token-endpoint answer judge. Bytes 0-1 pick the status, byte 2 whether an audience was
/// asked for, the rest is the body. Every outcome is checked against the outcome table
/// (docs/reference.md#token-endpoint-outcomes), and no token may appear in the outcome's `Debug`
/// output (it reaches logs).
pub fn token_response(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let status = 100 + u16::from_be_bytes([byte(0), byte(1)]) % 500;
    let audience = (byte(2) % 2 == 1).then_some(AUDIENCE);
    let body = data.get(3..).unwrap_or_default();
    let requested = Scope::parse("read:x write:x");
    let exchange = judge(status, body, audience, &requested, NOW);
    let debug = format!("{exchange:?}");
    let mut public = String::new();
    match &exchange {
        Exchange::Success {
            grant,
            refresh_token: _,
            id_token,
        } => {
            assert!((200..300).contains(&status));
            let token = &grant.access_token;
            assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
            assert!(grant.expires_at > NOW);
            if let (Some(wanted), Some(auds)) = (audience, jwt_audiences(token)) {
                assert!(
                    auds.iter().any(|a| a == wanted),
                    "wrong-audience token passed"
                );
            }
            public = grant.scope.to_string();
            assert_hidden(&debug, &public, token);
            if let Some(id) = id_token {
                assert_hidden(&debug, &public, id);
            }
        }
        Exchange::InvalidGrant => assert!(matches!(status, 400 | 401)),
        Exchange::Unavailable { status: s } => {
            assert_eq!(*s, Some(status));
            assert!(matches!(status, 408 | 429 | 500..=599));
        }
        Exchange::Denied { code, .. } => {
            assert!((400..500).contains(&status));
            assert!((1..=64).contains(&code.len()));
            assert!(code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')));
            public = code.clone();
        }
        Exchange::InvalidResponse { .. } | Exchange::AudienceMismatch { .. } => {
            assert!(!matches!(status, 408 | 429 | 500..=599));
        }
    }
    if let Some(rt) = exchange.refresh_token() {
        assert!(!rt.trim().is_empty());
        assert_hidden(&debug, &public, rt);
    }
}

/// `secret` must not show in `debug`, unless it also is a public part of the outcome (a scope or
/// error code that happens to equal it) or too short to tell apart from field names.
fn assert_hidden(debug: &str, public: &str, secret: &str) {
    if secret.len() >= 12 && !public.contains(secret) {
        assert!(!debug.contains(secret), "a token reached Debug output");
    }
}

/// The JWT `aud` reader: on any text it answers only for well-formed JWTs, and on a well-formed
/// JWT whose payload is `data` it agrees with a plain JSON reading of the payload.
pub fn jwt_aud(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if jwt_audiences(&text).is_some() {
        assert!(jwt_claims(&text).is_some());
    }
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(data));
    assert_eq!(jwt_audiences(&token), expected_audiences(data), "{token}");
}

/// `aud` as RFC 7519 §4.1.3 has it: a string or an array of strings; a malformed one names none.
fn expected_audiences(payload: &[u8]) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    match value.as_object()?.get("aud")? {
        serde_json::Value::Null => None,
        serde_json::Value::String(a) => Some(vec![a.clone()]),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => Some(Vec::new()),
    }
}

/// Path normalisation: a path the gateway accepts is canonical (normalising it again changes
/// nothing, so no upstream can resolve it to somewhere else), holds nothing two servers could
/// read differently, and can be put back into a request target as is.
pub fn path(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = normalize_path(raw) else {
        return;
    };
    assert!(p.starts_with('/'), "{raw:?} -> {p:?}");
    assert_eq!(normalize_path(&p).as_deref(), Ok(p.as_str()), "{raw:?}");
    assert!(
        p.split('/').all(|s| s != "." && s != ".."),
        "{raw:?} -> {p:?}"
    );
    assert!(p.bytes().all(|b| b.is_ascii_graphic()), "{raw:?} -> {p:?}");
    assert!(!p.contains(['?', '#', '\\']), "{raw:?} -> {p:?}");
    let lower = p.to_ascii_lowercase();
    for escape in ["%2f", "%5c", "%2e"] {
        assert!(!lower.contains(escape), "{raw:?} -> {p:?}");
    }
    let uri: http::Uri = p
        .parse()
        .expect("a normalised path is a valid request target");
    assert_eq!(uri.path(), p);
    // `/auth` is decided on the normalised path: nothing outside it normalises into it unseen.
    if tokengate::path::is_gateway_path(&p) {
        assert!(p == "/auth" || p.starts_with("/auth/"));
    }
}

/// The `returnTo` check: whatever the value, the redirect stays on the gateway's origin and is a
/// valid `Location` header. Checked on the value as given and as it arrives URL-encoded in a
/// query string.
pub fn return_to(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    check_return_to(&raw);
    let mut query = b"returnTo=".to_vec();
    query.extend_from_slice(data);
    if let Some((_, value)) = url::form_urlencoded::parse(&query).next() {
        check_return_to(&value);
    }
}

fn check_return_to(raw: &str) {
    let target = safe_return_to(Some(raw));
    assert!(target.starts_with('/'), "{raw:?} -> {target:?}");
    assert!(target.bytes().all(|b| b.is_ascii_graphic()), "{target:?}");
    assert!(http::HeaderValue::from_str(&target).is_ok(), "{target:?}");
    let base = url::Url::parse("https://gw.example/app/page").expect("a fixed valid URL");
    let resolved = base
        .join(&target)
        .expect("a browser can follow the Location");
    assert_eq!(
        resolved.origin(),
        base.origin(),
        "{raw:?} -> {target:?} leaves the origin"
    );
    assert!(resolved.username().is_empty() && resolved.password().is_none());
}

/// The framing screen on a client connection's raw bytes (`tokengate::http::framing`, what the
/// listener's tap runs before pingora parses anything). `data[0]` picks a read size, the rest is
/// the connection. Promises: no panic; the verdict does not depend on how the bytes were split
/// into reads (a request refused whole is refused byte by byte, and the same heads are seen);
/// every head the screen lets through has no bare LF and no control character in its target,
/// and pingora's parser (`httparse`) ends it exactly where the screen did, so the two never
/// disagree about where a body starts.
pub fn request_head(data: &[u8]) {
    use tokengate::http::framing::connection::Connection;
    let Some((&split, wire)) = data.split_first() else {
        return;
    };
    let whole = follow(&mut Connection::new(), [wire]);
    let step = usize::from(split % 16) + 1;
    let pieces = follow(&mut Connection::new(), wire.chunks(step));
    assert_eq!(whole.refused, pieces.refused, "read size {step}");
    assert_eq!(whole.heads, pieces.heads, "read size {step}");
    for head in whole.passed {
        assert!(!tokengate::http::framing::head::has_bare_lf(&head));
        let mut fields = [httparse::EMPTY_HEADER; 256];
        match httparse::Request::new(&mut fields).parse(&head) {
            Ok(httparse::Status::Complete(end)) => assert_eq!(end, head.len(), "{head:?}"),
            Ok(httparse::Status::Partial) => panic!("httparse wants more of {head:?}"),
            Err(_) => {} // pingora refuses the head itself
        }
    }
}

/// What the screen made of a connection fed `reads`.
struct Followed {
    /// Every head it delimited, as received.
    heads: Vec<Vec<u8>>,
    /// The heads it let through.
    passed: Vec<Vec<u8>>,
    /// Some read failed, or some head carried a violation.
    refused: bool,
}

fn follow<'a>(
    conn: &mut tokengate::http::framing::connection::Connection,
    reads: impl IntoIterator<Item = &'a [u8]>,
) -> Followed {
    let mut refused = false;
    for read in reads {
        if conn.feed(read).is_err() {
            refused = true;
            break;
        }
    }
    let (mut heads, mut passed) = (Vec::new(), Vec::new());
    while let Some(observed) = conn.take_head() {
        heads.push(observed.head.to_vec());
        match observed.violation {
            Some(_) => refused = true,
            None => passed.push(observed.head.to_vec()),
        }
    }
    refused |= conn.violation().is_some();
    Followed {
        heads,
        passed,
        refused,
    }
}
