//! Token requests over HTTP (every grant; the form is `grant::form`'s). This file only does I/O: it sends the request with the
//! configured client authentication and resource parameter, bounds the time and the size of the
//! answer, and hands status and body to [`response::judge`](super::response::judge), which decides
//! what the answer means.
//!
//! A call that may have reached the provider is never retried: with refresh-token rotation the
//! provider may already have consumed the token we sent, and sending it again is exactly the
//! reuse that makes it revoke the whole session.

use super::grant::{form, keep_for_session, GrantRequest};
use super::response::{judge, Exchange};
use super::scope::Scope;
use crate::config::{ClientAuth, ProviderConfig};
use crate::discovery::Discovery;
use crate::http::outbound::{describe, read_bounded, BodyError};
use crate::session::model::now;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest token-endpoint answer read; a larger one is an invalid response, not an allocation.
pub const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// What one exchange produced, with what the caller needs for the `503`'s `Retry-After` and the
/// latency histogram.
#[derive(Debug)]
pub struct ExchangeReport {
    pub exchange: Exchange,
    /// Seconds the provider asked us to wait (`Retry-After`), when it said.
    pub retry_after: Option<u64>,
    pub elapsed: Duration,
    /// A short, secret-free description for logs when the call did not succeed at the HTTP level.
    pub transport_error: Option<String>,
}

pub struct TokenClient {
    http: reqwest::Client,
    discovery: Arc<Discovery>,
}

impl TokenClient {
    pub fn new(http: reqwest::Client, discovery: Arc<Discovery>) -> Self {
        TokenClient { http, discovery }
    }

    pub fn discovery(&self) -> &Arc<Discovery> {
        &self.discovery
    }

    /// Exchanges `refresh_token` for an access token for `audience` with `scope`.
    pub async fn refresh(
        &self,
        provider: &ProviderConfig,
        refresh_token: &str,
        audience: Option<&str>,
        scope: &Scope,
    ) -> ExchangeReport {
        let grant = GrantRequest::RefreshToken(refresh_token);
        self.request(provider, grant, audience, scope).await
    }

    /// One token request of any grant for `audience` with `scope`, judged. The answer to a grant
    /// other than the refresh token carries nothing for the session (`keep_for_session`).
    pub async fn request(
        &self,
        provider: &ProviderConfig,
        grant: GrantRequest<'_>,
        audience: Option<&str>,
        scope: &Scope,
    ) -> ExchangeReport {
        let started = Instant::now();
        let scope_text = scope.to_string();
        let fields = form(
            grant,
            provider.resource_param.as_str(),
            audience,
            &scope_text,
        );
        match self.post_token(provider, fields).await {
            Ok(raw) => ExchangeReport {
                exchange: keep_for_session(
                    grant,
                    judge(raw.status, &raw.body, audience, scope, now()),
                ),
                retry_after: raw.retry_after,
                elapsed: started.elapsed(),
                transport_error: None,
            },
            Err(PostError::TooLarge) => ExchangeReport {
                exchange: Exchange::InvalidResponse {
                    reason: "too_large",
                    refresh_token: None,
                },
                retry_after: None,
                elapsed: started.elapsed(),
                transport_error: None,
            },
            Err(PostError::Unavailable(why)) => ExchangeReport {
                exchange: Exchange::Unavailable { status: None },
                retry_after: None,
                elapsed: started.elapsed(),
                transport_error: Some(why),
            },
        }
    }

    /// POSTs a form to the token endpoint with client authentication. One attempt, bounded by
    /// `provider.timeout` and [`MAX_TOKEN_RESPONSE`].
    pub async fn post_token<'a>(
        &self,
        provider: &'a ProviderConfig,
        form: Vec<(&'a str, &'a str)>,
    ) -> Result<RawResponse, PostError> {
        let meta = self
            .discovery
            .get()
            .await
            .map_err(|e| PostError::Unavailable(e.to_string()))?;
        self.post_form(provider, meta.token_endpoint.clone(), form)
            .await
    }

    /// POSTs a form with client authentication to any provider endpoint (token, revocation).
    pub async fn post_form<'a>(
        &self,
        provider: &'a ProviderConfig,
        endpoint: url::Url,
        mut form: Vec<(&'a str, &'a str)>,
    ) -> Result<RawResponse, PostError> {
        let mut request = client_auth(self.http.post(endpoint), provider, &mut form)
            .header("accept", "application/json")
            .timeout(provider.timeout)
            .form(&form);
        // The call is a span of the request it serves: same trace, the gateway's span as parent.
        if let Some(call) = crate::trace::current().map(|t| t.child()) {
            request = request.header("traceparent", call.traceparent());
            if let Some(state) = call.tracestate {
                request = request.header("tracestate", state);
            }
        }
        let resp = request
            .send()
            .await
            .map_err(|e| PostError::Unavailable(describe(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = read_bounded(resp, MAX_TOKEN_RESPONSE)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => PostError::TooLarge,
                BodyError::Transport(why) => PostError::Unavailable(why),
            })?;
        Ok(RawResponse {
            status,
            body,
            retry_after,
        })
    }
}

/// A provider's answer before it is judged.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<u64>,
}

/// Why a provider call produced no answer to judge.
#[derive(Debug)]
pub enum PostError {
    /// Timeout, connection failure, discovery not done: the provider may be down.
    Unavailable(String),
    TooLarge,
}

/// Adds client authentication: form fields for `client_secret_post`, HTTP Basic for
/// `client_secret_basic` (RFC 6749 §2.3.1: id and secret form-urlencoded before base64).
fn client_auth<'a>(
    req: reqwest::RequestBuilder,
    provider: &'a ProviderConfig,
    form: &mut Vec<(&'a str, &'a str)>,
) -> reqwest::RequestBuilder {
    let secret = provider.client_secret.expose();
    match provider.client_auth {
        ClientAuth::ClientSecretPost => {
            form.push(("client_id", &provider.client_id));
            if !secret.is_empty() {
                form.push(("client_secret", secret));
            }
            req
        }
        ClientAuth::ClientSecretBasic => {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req.basic_auth(enc(&provider.client_id), Some(enc(secret)))
        }
    }
}
