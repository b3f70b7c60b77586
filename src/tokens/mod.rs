//! Access tokens: which one serves a route (`scope`, `cache`), how the token endpoint's answer is
//! judged (`response`), the I/O of the exchange (`client`), and the per-session coordination of
//! concurrent exchanges (`broker`).

pub mod broker;
pub mod cache;
pub mod client;
pub mod error;
pub mod response;
/// Scopes are shared with `config` and `session`, so they live below all three.
pub use crate::scope;
