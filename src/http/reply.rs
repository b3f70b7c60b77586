//! Answers the gateway writes itself (errors, `/auth/*`), as plain values. Deciding an answer is
//! pure; writing it is the listener's job (`proxy::reply` for pingora).

use super::ErrorCode;
use bytes::Bytes;
use serde_json::{json, Value};

/// A complete response: status, headers and body, and the error code it carries, if any, so
/// that logs and metrics never read it back out of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub code: Option<ErrorCode>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    /// A JSON answer that is not an error; `no-store` because none of the gateway's own answers
    /// may be cached.
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            code: None,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            body: Bytes::from(body.to_string()),
        }
    }

    /// `{"error": code}`.
    pub fn error(status: u16, code: ErrorCode) -> Reply {
        Reply::error_with(status, code, [])
    }

    /// `{"error": code, "detail": detail}`.
    pub fn error_detail(status: u16, code: ErrorCode, detail: &str) -> Reply {
        Reply::error_with(status, code, [("detail", Value::from(detail))])
    }

    /// `{"error": code}` with more members (`detail`, `missing`).
    pub fn error_with(
        status: u16,
        code: ErrorCode,
        members: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> Reply {
        let mut body = json!({ "error": code.as_str() });
        if let Value::Object(map) = &mut body {
            for (name, value) in members {
                map.insert(name.to_owned(), value);
            }
        }
        Reply {
            code: Some(code),
            ..Reply::json(status, body)
        }
    }

    /// A success without a body (`no-store`, like every answer of the gateway's own).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            code: None,
            headers: vec![("cache-control", "no-store".into())],
            body: Bytes::new(),
        }
    }

    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            code: None,
            headers: vec![
                ("location", location.to_owned()),
                ("cache-control", "no-store".into()),
            ],
            body: Bytes::new(),
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            code: None,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: Bytes::from(body.to_owned()),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds `Set-Cookie` values; an answer that carries any is made `private, no-store`
    /// (`http::cache_control`), so no shared cache keeps a session.
    pub fn with_cookies(mut self, set_cookies: impl IntoIterator<Item = String>) -> Reply {
        let before = self.headers.len();
        for c in set_cookies {
            self.headers.push(("set-cookie", c));
        }
        if self.headers.len() > before {
            let existing: Vec<&str> = self
                .headers
                .iter()
                .filter(|(n, _)| *n == "cache-control")
                .map(|(_, v)| v.as_str())
                .collect();
            let joined = (!existing.is_empty()).then(|| existing.join(", "));
            let value = super::cache_control::private_no_store(joined.as_deref());
            self.headers.retain(|(n, _)| *n != "cache-control");
            self.headers.push(("cache-control", value));
        }
        self
    }

    /// `401 unauthenticated` with the `WWW-Authenticate` challenge.
    pub fn unauthenticated() -> Reply {
        Reply::error(401, ErrorCode::Unauthenticated).with_header("www-authenticate", "Bearer")
    }

    /// Redis did not answer: the session cannot be read or written right now.
    pub fn store_unavailable() -> Reply {
        Reply::error(503, ErrorCode::SessionStoreUnavailable).with_header("retry-after", "2")
    }
}

#[cfg(test)]
mod tests;
