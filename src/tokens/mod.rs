//! Access tokens: which one serves a route (`scope`, `cache`), how the token endpoint's answer is
//! judged (`response`), the I/O of the exchange (`client`), and the per-session coordination of
//! concurrent exchanges (`broker`). What a request gets out of it is a token and a [`Decision`]
//! (how it was obtained), or a [`TokenError`] (the row of the outcome table it answers with).

pub mod broker;
pub mod cache;
pub mod client;
pub mod decision;
pub mod error;
pub mod fit;
pub mod grant;
pub mod response;
/// Scopes are shared with `config` and `session`, so they live below all three.
pub use crate::scope;

pub use decision::Decision;
pub use error::TokenError;
