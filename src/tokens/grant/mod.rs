//! The token grants a route may use besides the session's refresh token
//! (docs/reference.md#token-grants): the form of each token request (`form`), RFC 8693 token
//! exchange on top of the per-session broker (`exchange`), and the process-wide cache of the
//! gateway's own client-credentials tokens (`client_credentials`).

pub mod client_credentials;
pub mod exchange;
mod form;

pub use form::{form, keep_for_session, GrantRequest, ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE};

/// How the broker obtains a session's token for a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via<'a> {
    /// The session's refresh token. `stale`: an access token the provider refused as a subject;
    /// no selection returns it, so it is renewed.
    Refresh { stale: Option<&'a str> },
    /// RFC 8693 with `subject`. `last_try`: an `invalid_grant` is final (the session ends)
    /// rather than a reason to renew the subject and try once more.
    Exchange { subject: &'a str, last_try: bool },
}

impl Via<'static> {
    /// The default grant: the session's refresh token, nothing excluded.
    pub const REFRESH: Self = Via::Refresh { stale: None };
}

impl Via<'_> {
    /// The `grant` label of metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Via::Refresh { .. } => "refresh_token",
            Via::Exchange { .. } => "token_exchange",
        }
    }
}
