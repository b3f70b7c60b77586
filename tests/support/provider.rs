//! A mock OpenID provider whose token endpoint behaves like Auth0 with refresh-token rotation:
//! each exchange consumes the presented refresh token and issues a new one of the same family;
//! presenting a consumed one again revokes the whole family (reuse detection). Faults can be
//! injected so that every row of the token-endpoint outcome table
//! (docs/reference.md#token-endpoint-outcomes) can be provoked, and every call is recorded so
//! tests can assert what the gateway sent (and that it sent nothing).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod grants;
use grants::TOKEN_EXCHANGE;

pub const CLIENT_ID: &str = "tokengate-test";
pub const CLIENT_SECRET: &str = "test-secret-0123";
/// The audience Auth0 answers with when a request is outside the refresh-token policy.
pub const OTHER_AUDIENCE: &str = "https://other.example";

/// A misbehaviour of the token endpoint, applying to every call until cleared.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and body (JSON when it parses as JSON); nothing is consumed.
    Status(u16, String),
    /// Sleep far past any gateway timeout.
    Hang,
    /// Answer normally after this delay.
    Latency(Duration),
    /// Answer normally after a delay drawn uniformly from this range, per call.
    Jitter(Duration, Duration),
    /// A 200 with this fixed JSON body (plus `refresh_token` when rotating).
    Json(Value),
    /// A 200 with an HTML page.
    Html,
    /// A normal answer whose `token_type` is this.
    TokenType(String),
    /// A normal answer whose JWT `aud` is [`OTHER_AUDIENCE`].
    WrongAudience,
    /// A normal answer granting only this scope (body `scope` and JWT).
    NarrowScope(String),
}

impl Fault {
    /// Whether the provider consumes and rotates the refresh token by default for this fault:
    /// answers that are otherwise normal do; broken answers do not, unless asked.
    fn rotates_by_default(&self) -> bool {
        matches!(
            self,
            Fault::Latency(_) | Fault::Jitter(..) | Fault::WrongAudience | Fault::NarrowScope(_)
        )
    }
}

/// One call to `POST /oauth/token` as received.
#[derive(Clone, Debug)]
pub struct TokenCall {
    pub form: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub traceparent: Option<String>,
}

impl TokenCall {
    /// The first value of a form field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Families {
    next_family: u64,
    /// refresh token → (family, consumed)
    tokens: HashMap<String, (u64, bool)>,
    revoked: HashSet<u64>,
}

struct Inner {
    issuer: String,
    token_endpoint: Option<String>,
    rotation: bool,
    /// Rotate only on every n-th successful exchange (1: every one), like a provider that
    /// rotates conditionally (late in a token's life, per grant).
    rotate_every: u64,
    exchanges: u64,
    expires_in: u64,
    /// Bytes of padding in every access token issued (a large JWT).
    token_padding: usize,
    fault: Option<(Fault, bool)>,
    families: Families,
    calls: Vec<TokenCall>,
    reuse_detected: u64,
    jti: u64,
    in_flight: usize,
    max_in_flight: usize,
    /// The JWKS also publishes the rotated key (`publish_rotated_key`).
    rotated_key: bool,
    jwks_fetches: usize,
    /// Claims of an ID token added to every successful answer, and who signs it.
    id_token: Option<(Value, super::signing::Signer)>,
    refused_subjects: HashSet<String>,
    refuse_all_subjects: bool,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct MockProvider {
    shared: Shared,
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl MockProvider {
    pub async fn start() -> MockProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock provider");
        let addr = listener.local_addr().expect("provider addr");
        let shared = Shared(Arc::new(Mutex::new(Inner {
            issuer: format!("http://{addr}"),
            token_endpoint: None,
            rotation: true,
            rotate_every: 1,
            exchanges: 0,
            expires_in: 3600,
            token_padding: 0,
            fault: None,
            families: Families::default(),
            calls: Vec::new(),
            reuse_detected: 0,
            jti: 0,
            in_flight: 0,
            max_in_flight: 0,
            rotated_key: false,
            jwks_fetches: 0,
            id_token: None,
            refused_subjects: HashSet::new(),
            refuse_all_subjects: false,
        })));
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/oauth/token", post(token))
            .route("/.well-known/jwks.json", get(jwks))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockProvider { shared, addr, task }
    }

    /// The issuer, exactly as it goes into the config: the base URL without a trailing slash.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A refresh token of a new, active family.
    pub fn mint_refresh_token(&self) -> String {
        let mut inner = self.shared.lock();
        let fam = &mut inner.families;
        fam.next_family += 1;
        let token = format!("rt-{}-{}", fam.next_family, random_suffix());
        let family = fam.next_family;
        fam.tokens.insert(token.clone(), (family, false));
        token
    }

    /// Advertises `url` as the token endpoint in discovery (e.g. a dead port, to provoke a
    /// connection failure). Must be set before the gateway starts.
    pub fn set_token_endpoint(&self, url: &str) {
        self.shared.lock().token_endpoint = Some(url.to_owned());
    }

    /// Whether an exchange consumes the presented refresh token and issues a new one (default on).
    pub fn set_rotation(&self, on: bool) {
        self.shared.lock().rotation = on;
    }

    /// Rotates only on every `n`-th successful exchange (counted over all sessions), the others
    /// answering without a new refresh token and leaving the presented one active: a provider
    /// that rotates conditionally. `1` (the default) rotates on every exchange.
    pub fn set_rotate_every(&self, n: u64) {
        self.shared.lock().rotate_every = n.max(1);
    }

    /// The `expires_in` of issued access tokens (default 3600).
    pub fn set_expires_in(&self, secs: u64) {
        self.shared.lock().expires_in = secs;
    }

    /// Pads every access token issued with `bytes` more bytes (a claim), like a provider that
    /// puts many claims into its JWTs.
    pub fn set_token_padding(&self, bytes: usize) {
        self.shared.lock().token_padding = bytes;
    }

    /// Injects `fault`, rotating the refresh token only where a real provider would.
    pub fn set_fault(&self, fault: Fault) {
        let rotate = fault.rotates_by_default();
        self.shared.lock().fault = Some((fault, rotate));
    }

    /// Injects `fault`; `with_rotation` says whether the answer still consumes the presented
    /// refresh token and carries a new one (when rotation is on and the body can hold it).
    pub fn set_fault_rotating(&self, fault: Fault, with_rotation: bool) {
        self.shared.lock().fault = Some((fault, with_rotation));
    }

    /// Adds an ID token with `claims`, signed by `signer`, to every successful answer (like a
    /// provider that issues a new ID token on refresh); `None` stops.
    pub fn set_id_token(&self, id_token: Option<(Value, super::signing::Signer)>) {
        self.shared.lock().id_token = id_token;
    }

    pub fn clear_fault(&self) {
        self.shared.lock().fault = None;
    }

    pub fn calls(&self) -> Vec<TokenCall> {
        self.shared.lock().calls.clone()
    }

    pub fn call_count(&self) -> usize {
        self.shared.lock().calls.len()
    }

    /// How many times a consumed refresh token was presented again.
    /// The most token-endpoint calls that were in progress at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().max_in_flight
    }

    /// Publishes a second signing key in the JWKS, as a provider rotating its keys does.
    pub fn publish_rotated_key(&self) {
        self.shared.lock().rotated_key = true;
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.lock().jwks_fetches
    }

    pub fn reuse_detected(&self) -> u64 {
        self.shared.lock().reuse_detected
    }

    /// Whether `refresh_token` is active (known, not consumed, family not revoked).
    pub fn is_active(&self, refresh_token: &str) -> bool {
        let inner = self.shared.lock();
        match inner.families.tokens.get(refresh_token) {
            Some((family, consumed)) => !consumed && !inner.families.revoked.contains(family),
            None => false,
        }
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn random_suffix() -> String {
    let bytes: [u8; 12] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn discovery(State(shared): State<Shared>) -> Json<Value> {
    let (issuer, token_endpoint) = {
        let inner = shared.lock();
        let issuer = inner.issuer.clone();
        let te = inner
            .token_endpoint
            .clone()
            .unwrap_or_else(|| format!("{issuer}/oauth/token"));
        (issuer, te)
    };
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": token_endpoint,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}/oidc/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", TOKEN_EXCHANGE],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }))
}

async fn jwks(State(shared): State<Shared>) -> Json<Value> {
    let rotated = {
        let mut inner = shared.lock();
        inner.jwks_fetches += 1;
        inner.rotated_key
    };
    Json(super::signing::jwks_with(rotated))
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": code})),
    )
        .into_response()
}

/// The unsigned JWT-shaped access token the tests decode to check audience and scope.
pub fn jwt(aud: &str, scope: &str, exp: u64, jti: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = json!({"aud": aud, "scope": scope, "exp": exp, "jti": jti.to_string()});
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string().as_bytes());
    format!("{header}.{payload}.sig")
}

/// `token` with `bytes` of padding in its signature part, which no test decodes.
fn padded(mut token: String, bytes: usize) -> String {
    token.push_str(&"p".repeat(bytes));
    token
}

/// The payload of a token made by [`jwt`].
pub fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// True when the call authenticated the test client, by form fields or by HTTP Basic.
fn client_authenticated(call: &TokenCall) -> bool {
    if let Some(basic) = call
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Basic "))
    {
        let decoded = STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        return decoded.as_deref() == Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    }
    call.field("client_id") == Some(CLIENT_ID) && call.field("client_secret") == Some(CLIENT_SECRET)
}

/// Counts a call as finished however its handler returns.
struct InFlight(Shared);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.in_flight = inner.in_flight.saturating_sub(1);
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let call = TokenCall {
        form: url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        authorization: headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        traceparent: headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let fault = {
        let mut inner = shared.lock();
        inner.calls.push(call.clone());
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        inner.fault.clone()
    };
    let _in_flight = InFlight(shared.clone());
    match &fault {
        Some((Fault::Status(code, body), _)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return match serde_json::from_str::<Value>(body) {
                Ok(v) => (status, Json(v)).into_response(),
                Err(_) => (status, body.clone()).into_response(),
            };
        }
        Some((Fault::Hang, _)) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
        Some((Fault::Latency(d), _)) => tokio::time::sleep(*d).await,
        Some((Fault::Jitter(min, max), _)) => {
            let spread = max.saturating_sub(*min).as_micros() as u64;
            let extra = Duration::from_micros(rand::random::<u64>() % spread.max(1));
            tokio::time::sleep(*min + extra).await
        }
        _ => {}
    }
    if !client_authenticated(&call) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match call.field("grant_type") {
        Some("refresh_token") => {}
        Some(TOKEN_EXCHANGE) => {
            return grants::token_exchange(&shared, &call, fault.as_ref().map(|f| &f.0))
        }
        Some("client_credentials") => {
            return grants::client_credentials(&shared, &call, fault.as_ref().map(|f| &f.0))
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    let presented = call.field("refresh_token").unwrap_or("").to_owned();
    let rotate_this_time = fault.as_ref().map(|(_, r)| *r).unwrap_or(true);

    let mut inner = shared.lock();
    let family = match inner.families.tokens.get(&presented).copied() {
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
        Some((family, _)) if inner.families.revoked.contains(&family) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant")
        }
        Some((family, true)) => {
            inner.families.revoked.insert(family);
            inner.reuse_detected += 1;
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
        Some((family, false)) => family,
    };
    inner.exchanges += 1;
    let conditional = inner.exchanges % inner.rotate_every == 0;
    let new_refresh = if inner.rotation && rotate_this_time && conditional {
        inner.families.tokens.insert(presented, (family, true));
        let t = format!("rt-{family}-{}", random_suffix());
        inner.families.tokens.insert(t.clone(), (family, false));
        Some(t)
    } else {
        None
    };

    let audience = call
        .field("audience")
        .or_else(|| call.field("resource"))
        .unwrap_or("default-aud")
        .to_owned();
    let requested_scope = call.field("scope").unwrap_or("").to_owned();
    let (aud, scope, token_type) = match &fault {
        Some((Fault::WrongAudience, _)) => (
            OTHER_AUDIENCE.to_owned(),
            requested_scope,
            "Bearer".to_owned(),
        ),
        Some((Fault::NarrowScope(s), _)) => (audience, s.clone(), "Bearer".to_owned()),
        Some((Fault::TokenType(t), _)) => (audience, requested_scope, t.clone()),
        _ => (audience, requested_scope, "Bearer".to_owned()),
    };
    inner.jti += 1;
    let exp = tokengate::session::model::now() + inner.expires_in;
    let mut body = json!({
        "access_token": padded(jwt(&aud, &scope, exp, inner.jti), inner.token_padding),
        "token_type": token_type,
        "expires_in": inner.expires_in,
        "scope": scope,
    });
    match &fault {
        Some((Fault::Json(v), _)) => body = v.clone(),
        Some((Fault::Html, _)) => {
            return (
                StatusCode::OK,
                [(http::header::CONTENT_TYPE, "text/html")],
                "<html><body>Service temporarily unavailable</body></html>",
            )
                .into_response()
        }
        _ => {}
    }
    if let (Some(rt), Some(obj)) = (new_refresh, body.as_object_mut()) {
        obj.insert("refresh_token".into(), Value::String(rt));
    }
    if let (Some((claims, signer)), Some(obj)) = (&inner.id_token, body.as_object_mut()) {
        let id_token = super::signing::sign_id_token(claims, *signer);
        obj.insert("id_token".into(), Value::String(id_token));
    }
    (StatusCode::OK, Json(body)).into_response()
}
