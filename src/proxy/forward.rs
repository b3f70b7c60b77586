//! The request the upstream receives (`docs/reference.md#proxying-a-request`): the normalised path, the Bearer token
//! in place of anything the client sent, no session cookie, and `X-Forwarded-*`.

use crate::session::cookie::{chunks, header};
use pingora::http::RequestHeader;
use std::borrow::Cow;

/// What the gateway decided about the upstream request.
pub struct Forward<'a> {
    /// Path (after `strip_prefix`) and the original query, e.g. `/x?a=1`.
    pub path_and_query: &'a str,
    pub upstream_authority: &'a str,
    pub bearer: Option<&'a str>,
    pub session_cookie: &'a str,
    pub client_ip: Option<String>,
    pub proto: &'static str,
    pub original_host: Option<String>,
}

/// Rewrites `req` for the upstream.
///
/// Fails closed: a target that is not a valid URI is a 400, never the client's URI unchanged
/// (which would skip `strip_prefix` and normalisation).
pub fn apply(req: &mut RequestHeader, f: &Forward<'_>) -> pingora::Result<()> {
    let uri = f.path_and_query.parse::<http::Uri>().map_err(|_| {
        pingora::Error::explain(
            pingora::ErrorType::HTTPStatus(400),
            "the normalised target is not a valid URI",
        )
    })?;
    req.set_uri(uri);
    req.remove_header("authorization");
    if let Some(token) = f.bearer {
        req.insert_header("authorization", format!("Bearer {token}"))?;
    }
    strip_session_cookies(req, f.session_cookie)?;
    req.insert_header("host", f.upstream_authority)?;

    let xff = match (
        req.headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok()),
        &f.client_ip,
    ) {
        (Some(prev), Some(ip)) => Some(format!("{prev}, {ip}")),
        (None, Some(ip)) => Some(ip.clone()),
        _ => None,
    };
    if let Some(xff) = xff {
        req.insert_header("x-forwarded-for", xff)?;
    }
    req.insert_header("x-forwarded-proto", f.proto)?;
    match &f.original_host {
        Some(h) => req.insert_header("x-forwarded-host", h.as_str())?,
        None => {
            req.remove_header("x-forwarded-host");
        }
    }
    Ok(())
}

/// Removes every session chunk (and login-transaction cookie) from every `Cookie` header; other
/// cookies pass through byte for byte.
///
/// This runs on every authenticated request, whose `Cookie` header carries the whole sealed
/// session (kilobytes): the header is read in place rather than copied, and validated with the
/// fast `str::from_utf8` (the profile of the cache-hit path found the lossy conversion and its
/// copy among the gateway's own top costs, BENCHMARKS.md).
fn strip_session_cookies(req: &mut RequestHeader, name: &str) -> pingora::Result<()> {
    let mut kept = Vec::new();
    for value in req.headers.get_all(http::header::COOKIE) {
        let text = header_text(value.as_bytes());
        kept.push(header::strip_cookies(&text, |n| {
            chunks::is_gateway_cookie(name, n)
        }));
    }
    if kept.is_empty() {
        return Ok(());
    }
    req.remove_header("cookie");
    for value in kept.into_iter().flatten() {
        req.append_header("cookie", value)?;
    }
    Ok(())
}

/// A header value as text, borrowed when it is valid UTF-8 (cookies are ASCII in practice).
/// Invalid bytes become U+FFFD, as they always did here: the kept cookies are rejoined as text.
fn header_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cookies: &[&[u8]]) -> RequestHeader {
        let mut req = RequestHeader::build("GET", b"/", None).expect("a valid request line");
        for c in cookies {
            let value = http::HeaderValue::from_bytes(c).expect("a valid header value");
            req.append_header("cookie", value).expect("appendable");
        }
        req
    }

    fn cookie_headers(req: &RequestHeader) -> Vec<Vec<u8>> {
        req.headers
            .get_all(http::header::COOKIE)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn session_chunks_and_login_transactions_are_removed_others_kept_in_order() {
        let mut req = request(&[
            b"a=1; tokengate=sealed; tokengate.1=more; tokengate-tx.st4te=tx; tokengatex=3; b=2",
        ]);
        strip_session_cookies(&mut req, "tokengate").expect("stripped");
        assert_eq!(
            cookie_headers(&req),
            vec![b"a=1; tokengatex=3; b=2".to_vec()]
        );
    }

    fn forward(path_and_query: &str) -> Forward<'_> {
        Forward {
            path_and_query,
            upstream_authority: "api.internal:8080",
            bearer: Some("tok"),
            session_cookie: "tokengate",
            client_ip: None,
            proto: "https",
            original_host: None,
        }
    }

    #[test]
    fn the_upstream_gets_the_decided_target_or_nothing() {
        let mut req = request(&[]);
        apply(&mut req, &forward("/orders/1?a=b")).expect("a valid target");
        assert_eq!(req.uri, "/orders/1?a=b");
        assert_eq!(req.headers["authorization"], "Bearer tok");

        // Never the client's URI unchanged: that would skip strip_prefix and normalisation.
        let mut req = request(&[]);
        let e = apply(&mut req, &forward("/a b")).expect_err("not a URI");
        assert_eq!(e.etype(), &pingora::ErrorType::HTTPStatus(400));
    }

    #[test]
    fn a_header_left_empty_is_dropped_and_the_other_headers_stay() {
        let mut req = request(&[b"tokengate=sealed; tokengate.2=x", b"theme=dark"]);
        strip_session_cookies(&mut req, "tokengate").expect("stripped");
        assert_eq!(cookie_headers(&req), vec![b"theme=dark".to_vec()]);
    }

    #[test]
    fn a_request_without_cookies_is_left_alone() {
        let mut req = request(&[]);
        strip_session_cookies(&mut req, "tokengate").expect("nothing to do");
        assert!(cookie_headers(&req).is_empty());
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        let mut req = request(&[b"a=\xff\xfe; tokengate=sealed"]);
        strip_session_cookies(&mut req, "tokengate").expect("stripped");
        assert_eq!(
            cookie_headers(&req),
            vec!["a=\u{FFFD}\u{FFFD}".as_bytes().to_vec()]
        );
    }
}
