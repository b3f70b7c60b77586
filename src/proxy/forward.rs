//! The request the upstream receives (contract §4 step 4): the normalised path, the Bearer token
//! in place of anything the client sent, no session cookie, and `X-Forwarded-*`.

use crate::session::cookies;
use pingora::http::RequestHeader;

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
pub fn apply(req: &mut RequestHeader, f: &Forward<'_>) -> pingora::Result<()> {
    if let Ok(uri) = f.path_and_query.parse::<http::Uri>() {
        req.set_uri(uri);
    }
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
fn strip_session_cookies(req: &mut RequestHeader, name: &str) -> pingora::Result<()> {
    let values: Vec<String> = req
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    req.remove_header("cookie");
    let tx_prefix = format!("{name}-tx.");
    for v in values {
        let kept = cookies::strip_cookies(&v, |n| {
            cookies::chunk_index(name, n).is_some() || n.starts_with(&tx_prefix)
        });
        if let Some(kept) = kept {
            req.append_header("cookie", kept)?;
        }
    }
    Ok(())
}
