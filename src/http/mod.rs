//! The HTTP vocabulary every layer speaks: the answers the gateway writes itself ([`Reply`]), the
//! error codes they carry ([`ErrorCode`]), the request as the pipeline sees it
//! ([`RequestView`]), and the bounded read of a provider's answer.
//!
//! It sits below `session`, `tokens`, `oidc`, `pipeline` and `proxy` and imports none of them,
//! so any of those can speak it without importing another's internals. Nothing here knows
//! pingora: the `proxy` adapter turns these values into pingora calls, and a listener that is not
//! pingora can do the same.

pub mod cache_control;
pub mod csrf;
pub mod error;
pub mod framing;
pub mod outbound;
pub mod reply;
pub mod request;

pub use error::ErrorCode;
pub use reply::Reply;
pub use request::{Incoming, RequestView};
