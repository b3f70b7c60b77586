//! Tests of `parse_str` and `check_str` on whole documents: typed values, defaults and
//! interpolation (`valid`), the exact path and message of every kind of error (`errors`), what
//! `check` refuses or warns about because it would break at run time (`checks`), and the TLS
//! keys with their files (`tls`). This file holds the shared fixtures.

mod access;
mod checks;
mod errors;
mod grants;
mod tls;
mod valid;

use super::{check_str, load_file, parse_str, Config, ConfigErrors};
use crate::config::model::{AuthMode, ClientAuth, ResourceParam, RouteConfig, StoreKind, Upstream};
use crate::scope::Scope;
use std::time::Duration;

/// 32 bytes (0..32) in base64url without padding.
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// 32 bytes of 0xff.
const KEY_B: &str = "__________________________________________8";
/// 16 bytes.
const KEY_SHORT: &str = "AAECAwQFBgcICQoLDA0ODw";

fn env(name: &str) -> Option<String> {
    match name {
        "TOKENGATE_CLIENT_ID" => Some("gateway-client".into()),
        "TOKENGATE_CLIENT_SECRET" => Some("s3cret # not: a comment".into()),
        "TOKENGATE_SESSION_KEY" => Some(KEY_A.into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// The smallest valid file; tests edit it with `replace` or append to it.
const MINIMAL: &str = r#"
server:
  listen: "127.0.0.1:8080"
  public_url: "http://127.0.0.1:8080"
provider:
  issuer: "https://issuer.example.com/"
  client_id: "${TOKENGATE_CLIENT_ID}"
  client_secret: "${TOKENGATE_CLIENT_SECRET}"
session:
  keys: ["${TOKENGATE_SESSION_KEY}"]
routes:
  - name: orders
    path_prefix: /api/orders
    upstream: "http://127.0.0.1:9101"
"#;

fn parse(text: &str) -> Result<Config, ConfigErrors> {
    parse_str(text, &env)
}

fn ok(text: &str) -> Config {
    match parse(text) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

/// Every error as `path: message`.
fn errors(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(_) => panic!("expected errors, the config was accepted"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that there is exactly one error, at `path`, whose message contains `fragment`.
fn one_error(text: &str, path: &str, fragment: &str) {
    let Err(ConfigErrors(errs)) = parse(text) else {
        panic!("expected an error at {path}, the config was accepted");
    };
    assert_eq!(errs.len(), 1, "expected one error, got {errs:?}");
    assert_eq!(errs[0].path, path, "{errs:?}");
    assert!(
        errs[0].message.contains(fragment),
        "{:?} lacks {fragment:?}",
        errs[0].message
    );
}

/// MINIMAL's `client_secret` line, for tests that replace it.
const SECRET_LINE: &str = "  client_secret: \"${TOKENGATE_CLIENT_SECRET}\"";

/// Every warning of a valid config as `warning: path: message`.
fn warnings(text: &str) -> Vec<String> {
    match check_str(text, &env) {
        Ok(checked) => checked.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("expected a valid config, got:\n{e}"),
    }
}

fn with_route_line(line: &str) -> String {
    format!("{MINIMAL}    {line}\n")
}
