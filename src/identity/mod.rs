//! Who the upstream is talking to (docs/reference.md#access-policy-and-identity): what the
//! gateway tells an upstream about the user, and what a client can never tell it instead.
//!
//! * `headers`: a claim as an upstream request header (`identity_headers:`), sanitised; and the
//!   set of identity headers removed from every client request, on every route.
//! * `assertion`: `X-Tokengate-Assertion`, a short-lived ES256 JWT naming the user, signed with
//!   `server.assertion_key`, reused while it is fresh, and the JWKS that publishes its keys.
//!
//! The pipeline's `identity` step decides the headers of one request; `proxy::forward` applies
//! them.

pub mod assertion;
pub mod headers;
pub mod stripped;

/// The header that carries the signed identity assertion.
pub const ASSERTION_HEADER: &str = "x-tokengate-assertion";
