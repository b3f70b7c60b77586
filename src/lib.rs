//! tokengate: a backend-for-frontend gateway. The browser holds only an encrypted session cookie;
//! the gateway turns it into a per-route access token (one refresh token, many audiences) and
//! forwards the request with `Authorization: Bearer` (`docs/reference.md`).
//!
//! # A request's path through the modules
//!
//! `proxy/` (the pingora adapter) runs `pipeline::run` from its `request_filter`; each step is
//! one file of `pipeline/` and returns "continue" or a `Reply`. Below pingora's parser,
//! `proxy/tap.rs` reads every client byte through `http/framing/` (heads as received, chunk
//! lines), which the screen step and `fail_to_proxy` act on.
//!
//! ```text
//!  1 screen     pipeline/screen.rs     head framing (http/framing), Host and sizes (limits:)
//! 1b trace      pipeline/trace.rs      trace/: the W3C trace context, continued or new
//!  2 normalize  pipeline/normalize.rs  path.rs: one canonical path
//!  3 gateway    pipeline/gateway.rs    /auth/* → oidc/ (login, callback/, logout, session_info,
//!                                      backchannel); the assertion's JWKS
//!  4 route      pipeline/route.rs      routing.rs: the route for host and path
//! 4b client_headers pipeline/client_headers.rs  identity and forwarding headers
//!                                      (server.trusted_proxies), Connection nominations
//!  5 session    pipeline/session.rs    session/cookie/ reads the cookie, tokens/broker the latest
//! 5b bearer     pipeline/bearer.rs     bearer.rs: a machine client's own JWT (no session),
//!                                      verified once with id_token's JWKS, then cached
//!  6 csrf       pipeline/csrf.rs       http/csrf.rs: the origin rule (unsafe methods, upgrades)
//!  7 policy     pipeline/policy.rs     policy/: the route's require: on session/claims.rs
//!  8 idle       pipeline/idle.rs       session/lifetime.rs: extend the idle timeout
//!  9 token      pipeline/token.rs      tokens/broker: cache hit, or one exchange per session;
//!                                      tokens/error.rs: the outcome table
//!  9b claims    pipeline/claims.rs     a refresh's new ID token updates the session's claims
//! 10 upstream   pipeline/upstream.rs   target, authority, X-Forwarded-* (applied by
//!                                      proxy/forward.rs)
//! 11 identity   pipeline/identity.rs   identity/: identity headers, the signed assertion,
//!                                      static upstream headers (client copies stripped by
//!                                      proxy/forward.rs)
//!    respond    pipeline/respond.rs    Set-Cookie from the session's latest state
//! ```
//!
//! # Modules, from the bottom up
//!
//! * `http`: the vocabulary every layer speaks: `Reply`, `ErrorCode`, `RequestView`, and the
//!   strict HTTP/1.1 framing rules (`http::framing`), the CSRF rule (`http::csrf`); `scope`:
//!   OAuth scopes; `discovery`: the provider's metadata; `jwt_crypto`: JWT signatures on `ring`;
//!   `id_token`: ID-token validation against the provider's keys (JWKS); `bearer`: the rules
//!   and the cache for machine clients' own access tokens.
//! * `config`: `routes.yaml` → typed `Config`; `routing`, `path`: pure request matching;
//!   `policy`: a route's compiled `require:` and its pure evaluation.
//! * `session`: model, lifetime, codec (pure seal/open), cookie (headers, chunks), opened-cache,
//!   Redis store.
//! * `tokens`: selection (`cache`), answers (`response`), the client, the per-session broker.
//! * `oidc`: the `/auth/*` endpoints; `identity`: what an upstream is told
//!   about the user (identity headers, the ES256 assertion).
//! * `tls`: PEM files, the listener's swappable certificate, a route's upstream CA and client
//!   certificate (read at config load).
//! * `trace`: the W3C trace context a request carries to the upstream and the token endpoint.
//! * `pipeline`: the request steps above; `proxy`: pingora wired to them (`proxy/peer.rs`: the
//!   upstream's TLS and HTTP version).
//! * `app` (config + process state), `server`, `admin`, `metrics`, `logging`, `reload` (and the
//!   listener certificate's reload), `shutdown`, `store_health`: the process around them.
//!
//! Each layer imports only those below it. Decisions are pure functions with unit tests (in
//! `x/tests.rs` beside module `x`); I/O lives at the edges (`tokens::client`, `oidc`, `proxy`,
//! `admin`).

pub mod admin;
pub mod app;
pub mod bearer;
pub mod config;
pub mod discovery;
pub mod http;
pub mod id_token;
pub mod identity;
pub mod jwt_crypto;
pub mod logging;
pub mod metrics;
pub mod oidc;
pub mod path;
pub mod pipeline;
pub mod policy;
pub mod proxy;
pub mod reload;
pub mod routing;
pub mod scope;
pub mod server;
pub mod session;
pub mod shutdown;
pub mod store_health;
pub mod tls;
pub mod tokens;
pub mod trace;
