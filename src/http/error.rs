//! Every error code the gateway answers with, in one table. The code is the JSON body's `error`
//! member, the access log's `error` field, and a row of the error table in
//! `docs/reference.md#errors`.

/// One code the gateway itself answers with. Codes a provider sends (`invalid_grant`, ...) are
/// not here: they are passed on in a `detail` member when the client should see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // Before routing (`docs/reference.md#proxying-a-request`).
    BadRequest,
    RequestHeaderFieldsTooLarge,
    BadPath,
    NoRoute,
    RequestTimeout,
    // The session and the request's origin.
    Unauthenticated,
    Csrf,
    SessionStoreUnavailable,
    // The route's access policy (`docs/reference.md#access-policy-and-identity`).
    Forbidden,
    InsufficientUserAuthentication,
    // A machine client's own token (`docs/reference.md#machine-clients`).
    InvalidToken,
    // The token for the route (`docs/reference.md#token-endpoint-outcomes`).
    SessionExpired,
    TokenEndpointUnavailable,
    TokenUnavailable,
    TokenEndpointInvalidResponse,
    InsufficientScope,
    SessionBusy,
    // The upstream.
    UpstreamTimeout,
    UpstreamUnavailable,
    // The gateway endpoints (`docs/reference.md#gateway-endpoints`).
    NotFound,
    MethodNotAllowed,
    NotImplemented,
    ProviderUnavailable,
    ProviderError,
    ProviderInvalidResponse,
    InvalidState,
    LoginFailed,
    MissingCode,
    InvalidCode,
    InvalidIdToken,
    SessionTooLarge,
    InvalidLogoutToken,
    StepUpFailed,
    InvalidParameter,
    Internal,
}

impl ErrorCode {
    /// The code as clients and logs see it.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "bad_request",
            RequestHeaderFieldsTooLarge => "request_header_fields_too_large",
            BadPath => "bad_path",
            NoRoute => "no_route",
            RequestTimeout => "request_timeout",
            Unauthenticated => "unauthenticated",
            Csrf => "csrf",
            SessionStoreUnavailable => "session_store_unavailable",
            Forbidden => "forbidden",
            InsufficientUserAuthentication => "insufficient_user_authentication",
            InvalidToken => "invalid_token",
            SessionExpired => "session_expired",
            TokenEndpointUnavailable => "token_endpoint_unavailable",
            TokenUnavailable => "token_unavailable",
            TokenEndpointInvalidResponse => "token_endpoint_invalid_response",
            InsufficientScope => "insufficient_scope",
            SessionBusy => "session_busy",
            UpstreamTimeout => "upstream_timeout",
            UpstreamUnavailable => "upstream_unavailable",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            NotImplemented => "not_implemented",
            ProviderUnavailable => "provider_unavailable",
            ProviderError => "provider_error",
            ProviderInvalidResponse => "provider_invalid_response",
            InvalidState => "invalid_state",
            LoginFailed => "login_failed",
            MissingCode => "missing_code",
            InvalidCode => "invalid_code",
            InvalidIdToken => "invalid_id_token",
            SessionTooLarge => "session_too_large",
            InvalidLogoutToken => "invalid_logout_token",
            StepUpFailed => "step_up_failed",
            InvalidParameter => "invalid_parameter",
            Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
