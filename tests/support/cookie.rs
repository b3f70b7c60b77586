//! Session cookies minted with the gateway's own codec and the test key, so a test can start from
//! any session state (fresh or expired tokens, many cached entries, a big session) without
//! driving a browser login through the provider.

use super::{COOKIE, LOGIN_AUDIENCE, LOGIN_SCOPE};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokengate::session::codec::KeyRing;
use tokengate::session::cookie::chunks::{chunk_name, join_chunks, split_chunks};
use tokengate::session::model::{now, Session, TokenSet, User};
use tokengate::tokens::scope::Scope;

/// The session key every test config uses.
pub const TEST_KEY: [u8; 32] = *b"tokengate-integration-test-key!!";

/// [`TEST_KEY`] as written in `session.keys`.
pub fn test_key_b64() -> String {
    URL_SAFE_NO_PAD.encode(TEST_KEY)
}

/// The `Cookie` header value carrying `session` sealed with `key` under `cookie_name`: one
/// `NAME=value` pair, or `NAME=..; NAME.1=..; ...` when the sealed value needs chunks.
pub fn mint_cookie(key: &[u8; 32], cookie_name: &str, session: &Session) -> String {
    let ring = KeyRing::new(&[*key]).expect("key ring");
    let sealed = ring
        .seal_session(cookie_name, session)
        .expect("seal the session");
    split_chunks(&sealed)
        .iter()
        .enumerate()
        .map(|(k, chunk)| format!("{}={chunk}", chunk_name(cookie_name, k)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A token set as the cache stores it.
pub fn token_set(
    audience: Option<&str>,
    scope: &str,
    access_token: &str,
    expires_at: u64,
) -> TokenSet {
    TokenSet {
        audience: audience.map(str::to_owned),
        scope: Scope::parse(scope),
        requested: Scope::parse(scope),
        access_token: access_token.to_owned(),
        expires_at,
        last_used: now(),
    }
}

/// A logged-in session holding `refresh_token` and a primary token for the login audience and
/// scope, valid for an hour.
pub fn session_for(refresh_token: &str, primary_token: &str) -> Session {
    let t = now();
    let mut s = Session::new(
        User {
            sub: "user-1".into(),
            name: Some("Test User".into()),
            email: Some("user@example.com".into()),
            sid: Some("provider-sid-1".into()),
        },
        t,
    );
    s.refresh_token = Some(refresh_token.to_owned());
    s.primary = Some(token_set(
        Some(LOGIN_AUDIENCE),
        LOGIN_SCOPE,
        primary_token,
        t + 3600,
    ));
    s
}

/// [`mint_cookie`] with the test key and cookie name.
pub fn cookie_for(session: &Session) -> String {
    mint_cookie(&TEST_KEY, COOKIE, session)
}

/// The session a response's `Set-Cookie` headers carry (all chunks joined, opened with the test
/// key), or `None` when they carry no usable session cookie.
pub fn open_set_cookies(set_cookie: &[String]) -> Option<Session> {
    let header = super::cookie_header_from(set_cookie);
    open_cookie_header(&header)
}

/// The session in a `Cookie` header value (`a=1; tokengate=...; tokengate.1=...`).
pub fn open_cookie_header(header: &str) -> Option<Session> {
    let pairs: Vec<(&str, &str)> = header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .collect();
    let sealed = join_chunks(COOKIE, pairs.into_iter()).ok()??;
    let ring = KeyRing::new(&[TEST_KEY]).ok()?;
    ring.open_session(COOKIE, &sealed).ok()
}
