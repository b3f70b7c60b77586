//! tokengate: a backend-for-frontend gateway. The browser holds only an encrypted session cookie;
//! the gateway turns it into a per-route access token (one refresh token, many audiences) and
//! forwards the request with `Authorization: Bearer`.
//!
//! The crate is split so that every decision is a pure function with unit tests (`routing`,
//! `session::codec`, `tokens::scope`, `tokens::cache`, `tokens::response`), and I/O lives at the
//! edges (`tokens::client`, `oidc`, `proxy`, `admin`).

pub mod admin;
pub mod app;
pub mod config;
pub mod discovery;
pub mod http;
pub mod jwt_crypto;
pub mod logging;
pub mod metrics;
pub mod oidc;
pub mod path;
pub mod proxy;
pub mod reload;
pub mod routing;
pub mod scope;
pub mod server;
pub mod session;
pub mod shutdown;
pub mod store_health;
pub mod tokens;
