//! How the token a request carries was obtained: the access log's `token` field and the answer
//! of `tokens::broker::Broker::token_for`.

/// How the token for a request was obtained (logged per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The session already held it.
    Hit,
    /// Another request of the same session obtained it while this one waited.
    Coalesced,
    /// This request's own token-endpoint exchange obtained it.
    Refreshed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Hit => "hit",
            Decision::Coalesced => "coalesced",
            Decision::Refreshed => "refreshed",
        }
    }
}
