//! Reading a provider's answer (token endpoint, discovery, JWKS) without letting the provider
//! decide how much the gateway buffers, and describing a failed call without leaking anything
//! secret into a log line.

/// A reqwest error described without its URL's query or any header (none of ours carry secrets
/// in the URL, but the description stays short and safe for logs either way).
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "body read failed".into()
    } else {
        "request failed".into()
    }
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Transport(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge => f.write_str("response too large"),
            BodyError::Transport(s) => f.write_str(s),
        }
    }
}

/// Reads a response body, refusing more than `limit` bytes (a provider or a man in the middle
/// must not be able to make the gateway buffer without bound).
pub async fn read_bounded(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transport(describe(&e))),
        }
    }
}
