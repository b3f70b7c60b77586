//! Unit tests of `tokens::response`: one per rule of the judge (status × body), JWT decoding, and
//! property tests that arbitrary answers never panic.

use super::*;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::json;

const NOW: u64 = 1_700_000_000;
const API: &str = "https://api.example.com";

fn jwt(payload: &Value) -> String {
    let enc = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    format!(
        "{}.{}.{}",
        enc(br#"{"alg":"RS256","typ":"at+jwt"}"#),
        enc(payload.to_string().as_bytes()),
        enc(b"not-a-real-signature")
    )
}

/// Judges `body` as the answer to a request for `API` with scope `read`.
fn judged(status: u16, body: &str) -> Exchange {
    judge(
        status,
        body.as_bytes(),
        Some(API),
        &Scope::parse("read"),
        NOW,
    )
}

fn judged_json(status: u16, body: Value) -> Exchange {
    judged(status, &body.to_string())
}

fn success(token: &str, scope: &str, expires_at: u64) -> Exchange {
    Exchange::Success {
        grant: Grant {
            access_token: token.into(),
            scope: Scope::parse(scope),
            expires_at,
        },
        refresh_token: None,
        id_token: None,
    }
}

fn invalid(reason: &'static str) -> Exchange {
    Exchange::InvalidResponse {
        reason,
        refresh_token: None,
    }
}

fn expires_at(exchange: &Exchange) -> Option<u64> {
    match exchange {
        Exchange::Success { grant, .. } => Some(grant.expires_at),
        _ => None,
    }
}

mod status;
mod success;
