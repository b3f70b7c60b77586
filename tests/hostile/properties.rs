//! The fuzz targets' checks (`fuzz/src/lib.rs`) as bounded property tests, so every CI run
//! exercises them without nightly or libFuzzer: arbitrary bytes, plus generators aimed at each
//! parser's interesting inputs (escapes and dot-segments for paths, edits of valid cookies and
//! configs). Inputs that once broke a check are kept at the bottom as regression tests.

use crate::fuzz_entry as entry;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// Strings built from the pieces that matter to a parser, so a few hundred cases reach deep.
fn pieces(set: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(prop::sample::select(set), 0..max).prop_map(|p| p.concat().into_bytes())
}

const PATH_PIECES: &[&str] = &[
    "/", "/", "/", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "%", "%4", "%41", "%7E", "%00",
    "%C3", "%a9", "a", "Z", "~", "-", "\\", "?", "#", " ", "é", "auth", "api", ";", "@", ":",
];

const RETURN_TO_PIECES: &[&str] = &[
    "/",
    "/",
    "\\",
    "//",
    "/\\",
    "\t",
    "\r",
    "\n",
    " ",
    "%0d",
    "%0a",
    "%2f",
    "%5c",
    "%",
    "?",
    "#",
    "@",
    ":",
    "http:",
    "https://evil.example",
    "javascript:",
    "evil.example",
    "..",
    ".",
    "é",
    "\u{2028}",
    "\u{ff0f}",
    "\u{0}",
    "a",
];

const JWT_PAYLOAD_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"aud\"",
    "\"AUD\"",
    "\"exp\"",
    "\"a\"",
    "\"\"",
    "null",
    "1",
    "1.5",
    "-1",
    "true",
    "\"\\u0061ud\"",
    " ",
    "\"x\"",
];

/// Pieces of HTTP/1.1 connections: request lines, fields, line ends (strict and not), bodies.
const HEAD_PIECES: &[&str] = &[
    "\x05",
    "POST /a HTTP/1.1",
    "GET /b?q=1 HTTP/1.1",
    "GET /a\tb HTTP/1.1",
    "\r\n",
    "\r\n",
    "\r\n",
    "\n",
    "\r",
    "Host: a",
    "Content-Length: 5",
    "Content-Length: 0",
    "Content-Length: 5, 5",
    "Transfer-Encoding: chunked",
    "Upgrade: websocket",
    "X: y",
    "5\r\nhello\r\n",
    "0\r\n\r\n",
    "5;x=y\nhello",
    ";a=\"b\"",
    "hello",
    " ",
    ":",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn request_head_arbitrary_bytes(data in bytes(256)) {
        entry::request_head(&data);
    }

    #[test]
    fn request_head_from_pieces(data in pieces(HEAD_PIECES, 40)) {
        entry::request_head(&data);
    }

    #[test]
    fn path_arbitrary_bytes(data in bytes(64)) {
        entry::path(&data);
    }

    #[test]
    fn path_from_pieces(data in pieces(PATH_PIECES, 24)) {
        entry::path(&data);
    }

    #[test]
    fn return_to_arbitrary_bytes(data in bytes(64)) {
        entry::return_to(&data);
    }

    #[test]
    fn return_to_from_pieces(data in pieces(RETURN_TO_PIECES, 12)) {
        entry::return_to(&data);
    }

    #[test]
    fn jwt_aud_arbitrary_bytes(data in bytes(96)) {
        entry::jwt_aud(&data);
    }

    #[test]
    fn jwt_aud_from_json_pieces(data in pieces(JWT_PAYLOAD_PIECES, 16)) {
        entry::jwt_aud(&data);
    }

    #[test]
    fn token_response_arbitrary_bytes(data in bytes(128)) {
        entry::token_response(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn token_response_json_bodies(
        status in prop::sample::select(&[200u16, 201, 400, 401, 403, 429, 503][..]),
        audience in any::<bool>(),
        access_token in prop::sample::select(&[
            "\"tok\"", "\"\"", "\" \"", "\"a b\"", "1", "null",
            "\"eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlIn0.c2ln\"",
            "\"eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL290aGVyLmV4YW1wbGUifQ.c2ln\"",
        ][..]),
        token_type in prop::sample::select(&["\"Bearer\"", "\"bearer\"", "\"mac\"", "null", "2"][..]),
        expires_in in prop::sample::select(&["3600", "\"60\"", "0", "-5", "1e30", "null", "\"x\""][..]),
        error in prop::sample::select(&["\"invalid_grant\"", "\"<script>\"", "null", "7"][..]),
        refresh in prop::sample::select(&["\"refresh-token-rotated-1\"", "\"\"", "null"][..]),
    ) {
        let body = format!(
            "{{\"access_token\":{access_token},\"token_type\":{token_type},\
             \"expires_in\":{expires_in},\"error\":{error},\"refresh_token\":{refresh}}}"
        );
        // The entry reads the status as 100 + (first two bytes) % 500.
        let mut data = (status - 100).to_be_bytes().to_vec();
        data.push(u8::from(audience));
        data.extend_from_slice(body.as_bytes());
        entry::token_response(&data);
    }

    #[test]
    fn session_cookie_arbitrary_headers(data in bytes(256)) {
        let mut input = vec![0u8];
        input.extend(data);
        entry::session_cookie(&input);
    }

    #[test]
    fn session_cookie_edits_of_a_valid_cookie(edits in bytes(64)) {
        let mut input = vec![1u8];
        input.extend(edits);
        entry::session_cookie(&input);
    }

}

proptest! {
    // Each case opens a full three-chunk session: fewer cases, same coverage of orderings.
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn session_cookie_reshuffled_chunks_still_open(order in bytes(32)) {
        let mut input = vec![2u8];
        input.extend(order);
        entry::session_cookie(&input);
    }
}

/// A valid config to edit: every section, two routes.
const VALID_CONFIG: &str = r#"server:
  listen: "127.0.0.1:8080"
  public_url: "https://gw.example"
provider:
  issuer: "https://issuer.example/"
  client_id: "${SET_client}"
  client_secret: "${SET_secret}"
  login:
    scope: "openid offline_access"
session:
  keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"]
  idle_timeout: 1h
tokens:
  max_cached: 4
limits:
  max_cookie_chunks: 4
  client_header_timeout: 10s
routes:
  - name: a
    path_prefix: /api
    upstream: "http://127.0.0.1:9101"
    audience: "https://a.example"
  - name: b
    path_prefix: /
    host: "gw.example"
    upstream: "https://b.example:8443"
    auth: none
"#;

#[test]
fn the_config_seed_is_valid() {
    let config = tokengate::config::parse_str(VALID_CONFIG, &|n: &str| {
        n.strip_prefix("SET_").map(str::to_owned)
    })
    .expect("the seed config is valid");
    assert_eq!(config.routes.len(), 2);
    assert_eq!(config.limits.max_cookie_chunks, 4);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn config_arbitrary_bytes(data in bytes(256)) {
        entry::config(&data);
    }

    #[test]
    fn config_edits_of_a_valid_file(edits in bytes(48)) {
        entry::config(&entry::apply_edits(VALID_CONFIG.as_bytes(), &edits));
    }
}

// Regression inputs: every crash or broken check the fuzzers found, run on every test run.
// (See SECURITY.md, "Fuzzing", for what each one was.)

/// token_response, first minutes of fuzzing: a 200 whose JWT access token carried an `exp` in the
/// past (here 1970) was a success that expired before use; now `invalid("expired")`.
#[test]
fn regression_token_response_jwt_already_expired() {
    let mut data = vec![0x00, 0x64, 0x01]; // status 200, audience asked for
    data.extend_from_slice(
        br#"{"access_token": "eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlIiwiZXhwIjoxODAwMDAwfQ.c2ln", "token_type": "bearer"}"#,
    );
    entry::token_response(&data);
    let body = data.get(3..).unwrap_or_default();
    let exchange = tokengate::tokens::response::judge(
        200,
        body,
        Some("https://api.example"),
        &tokengate::tokens::scope::Scope::parse("read:x"),
        entry::NOW,
    );
    assert!(matches!(
        exchange,
        tokengate::tokens::response::Exchange::InvalidResponse {
            reason: "expired",
            ..
        }
    ));
}
