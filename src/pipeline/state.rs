//! What one request carries from step to step, and from the pipeline to the response. Steps
//! fill it in order; the listener reads it to forward the request and to write the response's
//! `Set-Cookie`.

use crate::app::Loaded;
use crate::bearer::AccessClaims;
use crate::http::ErrorCode;
use crate::routing::Route;
use crate::tokens::broker::SessionView;
use crate::tokens::Decision;
use crate::trace::TraceContext;
use std::sync::Arc;

/// The per-request state of the pipeline.
pub struct RequestState {
    /// The config this request is served under, from its first step to its last phase.
    pub loaded: Arc<Loaded>,
    /// The trace this request belongs to and the gateway's span in it (step `trace`).
    pub trace: Option<TraceContext>,
    /// The normalised path (step `normalize`).
    pub path: String,
    /// The route, resolved once (step `route`).
    pub route: Option<Arc<Route>>,
    /// The session and what its cookie needs on the response (step `session` on).
    pub session: SessionState,
    /// The route's token (step `token`).
    pub token: TokenState,
    /// What the upstream keeps of the client's headers (step `client_headers`).
    pub client_headers: super::client_headers::ClientHeaders,
    /// What the upstream receives (step `upstream`).
    pub upstream: super::upstream::UpstreamRequest,
    /// The gateway's own error code when it answered instead of the upstream.
    pub error: Option<ErrorCode>,
    /// The connection closes after the answer: a refused request's unread body cannot be told
    /// apart from the next request.
    pub close: bool,
}

/// The request's session, and the cookie plan for its response.
#[derive(Default)]
pub struct SessionState {
    /// The session this request works from (the newer of its cookie and the latest state).
    pub view: Option<SessionView>,
    /// Chunk indices of the session cookie the request carried.
    pub chunks: Vec<usize>,
    /// The request carried a session cookie that cannot be used: clear it on the response.
    pub clear: bool,
}

/// Whether the route's token was attached.
#[derive(Default)]
pub enum TokenState {
    /// No token was needed (no session on an optional route, `auth: none`, or an answer before).
    #[default]
    None,
    Attached {
        token: String,
        decision: Decision,
    },
    /// A token was needed and could not be obtained.
    Failed,
    /// The client's own Bearer token, validated (step `bearer`): forwarded as it came, and its
    /// claims stand in for a session's in `require:` and identity headers.
    Client {
        token: String,
        claims: Arc<AccessClaims>,
    },
}

impl RequestState {
    pub fn new(loaded: Arc<Loaded>) -> RequestState {
        RequestState {
            loaded,
            trace: None,
            path: String::new(),
            route: None,
            session: SessionState::default(),
            token: TokenState::None,
            client_headers: Default::default(),
            upstream: Default::default(),
            error: None,
            close: false,
        }
    }

    /// The route's name for logs and metrics, `-` before one matched.
    pub fn route_name(&self) -> &str {
        self.route.as_ref().map_or("-", |r| r.config.name.as_str())
    }

    /// The access log's `token` field.
    pub fn token_label(&self) -> &'static str {
        match &self.token {
            TokenState::Attached { decision, .. } => decision.as_str(),
            TokenState::Failed => "failed",
            TokenState::Client { .. } => "client",
            TokenState::None => "none",
        }
    }

    /// The token to attach, if any.
    pub fn bearer(&self) -> Option<&str> {
        match &self.token {
            TokenState::Attached { token, .. } | TokenState::Client { token, .. } => Some(token),
            _ => None,
        }
    }

    /// The claims of the client's own validated Bearer token, when the request was one.
    pub fn client_claims(&self) -> Option<&AccessClaims> {
        match &self.token {
            TokenState::Client { claims, .. } => Some(claims),
            _ => None,
        }
    }
}
