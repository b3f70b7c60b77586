//! What crosses between client and upstream, applied to pingora's headers: the upstream request
//! the pipeline decided (`pipeline::upstream`: the normalised path, the Bearer token in place of
//! anything the client sent, no session cookie, no client identity or forwarding header the
//! `client_headers` step removed, `X-Forwarded-*`, the trace context naming the gateway's span,
//! the gateway's own identity and static headers), and, on the way back, no upstream `Set-Cookie` that would overwrite the gateway's
//! session (`docs/reference.md#proxying-a-request`).

use crate::identity::headers::StrippedHeaders;
use crate::pipeline::client_headers::ClientHeaders;
use crate::pipeline::upstream::UpstreamRequest;
use crate::session::cookie::{chunks, header};
use pingora::http::{RequestHeader, ResponseHeader};
use std::borrow::Cow;

/// What the gateway decided about the upstream request.
pub struct Forward<'a> {
    pub upstream: &'a UpstreamRequest,
    pub bearer: Option<&'a str>,
    pub session_cookie: &'a str,
    /// Identity headers no client may send (every route kind).
    pub stripped: &'a StrippedHeaders,
    /// What the upstream keeps of the client's identity and forwarding headers.
    pub client: &'a ClientHeaders,
}

/// Rewrites `req` for the upstream.
///
/// Fails closed: a target that is not a valid URI is a 400, never the client's URI unchanged
/// (which would skip `strip_prefix` and normalisation).
pub fn apply(req: &mut RequestHeader, f: &Forward<'_>) -> pingora::Result<()> {
    let up = f.upstream;
    let uri = up.target.parse::<http::Uri>().map_err(|_| {
        pingora::Error::explain(
            pingora::ErrorType::HTTPStatus(400),
            "the normalised target is not a valid URI",
        )
    })?;
    req.set_uri(uri);
    // The client's identity and forwarding headers go before the gateway sets its own.
    for name in f.stripped.present(&req.headers) {
        req.remove_header(&name);
    }
    for name in &f.client.remove {
        req.remove_header(name);
    }
    trace_headers(req, up)?;
    req.remove_header("authorization");
    if let Some(token) = f.bearer {
        req.insert_header("authorization", format!("Bearer {token}"))?;
    }
    // After the Bearer token: a static `Authorization` (allowed only with `auth: none`) stays.
    for (name, value) in &up.headers {
        req.insert_header(name.clone(), value.clone())?;
    }
    strip_session_cookies(req, f.session_cookie)?;
    req.insert_header("host", up.authority.as_str())?;

    forwarding_headers(req, f.client, up)?;
    Ok(())
}

/// The trace context names the gateway's span: the client's `traceparent` and `tracestate` are
/// replaced, never passed on as they came.
fn trace_headers(req: &mut RequestHeader, up: &UpstreamRequest) -> pingora::Result<()> {
    req.remove_header("traceparent");
    req.remove_header("tracestate");
    if let Some(v) = &up.traceparent {
        req.insert_header("traceparent", v.clone())?;
    }
    if let Some(v) = &up.tracestate {
        req.insert_header("tracestate", v.clone())?;
    }
    Ok(())
}

/// `X-Forwarded-*`: `For` as the `client_headers` step decided; `Proto` and `Host` the
/// gateway's, unless a trusted proxy sent its own.
fn forwarding_headers(
    req: &mut RequestHeader,
    client: &ClientHeaders,
    up: &UpstreamRequest,
) -> pingora::Result<()> {
    match &client.forwarded_for {
        Some(xff) => req.insert_header("x-forwarded-for", xff.as_str())?,
        None => {
            req.remove_header("x-forwarded-for");
        }
    }
    let keep = |req: &RequestHeader, name: &str| client.trusted && req.headers.contains_key(name);
    if !keep(req, "x-forwarded-proto") {
        req.insert_header("x-forwarded-proto", up.proto)?;
    }
    if !keep(req, "x-forwarded-host") {
        match &up.original_host {
            Some(h) => req.insert_header("x-forwarded-host", h.as_str())?,
            None => {
                req.remove_header("x-forwarded-host");
            }
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

/// Removes any upstream `Set-Cookie` that would overwrite a session chunk.
pub fn drop_upstream_session_cookies(resp: &mut ResponseHeader, name: &str) {
    let values: Vec<http::HeaderValue> =
        resp.headers.get_all("set-cookie").iter().cloned().collect();
    let bad = |v: &http::HeaderValue| {
        let text = String::from_utf8_lossy(v.as_bytes());
        let cookie_name = text.split('=').next().unwrap_or("").trim().to_owned();
        chunks::is_gateway_cookie(name, &cookie_name)
    };
    if values.iter().any(bad) {
        resp.remove_header("set-cookie");
        for v in values.into_iter().filter(|v| !bad(v)) {
            let _ = resp.append_header("set-cookie", v);
        }
    }
}

#[cfg(test)]
mod tests;
