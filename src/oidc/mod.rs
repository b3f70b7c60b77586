//! The OpenID Connect side of the gateway: provider discovery, ID-token validation, and the
//! `/auth/*` endpoints (login, callback, logout, session).

pub mod backchannel;
pub mod endpoints;
pub mod id_token;
pub mod login;
