//! `routes.yaml` → a validated [`Config`] (docs/reference.md#routesyaml). Loading reports *every*
//! problem with its field path (`routes[2].upstream: ...`), because an operator fixing a config
//! wants the whole list at once, and warns about settings that load but break at run time.
//!
//! How it is built: `yaml` parses the text into a tree that keeps key order; each section is a
//! table (`section!`, in `section.rs`) whose rows name a key, its default and the reader that
//! checks it (`read.rs`, on top of the single-value rules in `fields.rs`); the `walker` collects
//! problems and replaces `${VAR}` (`interpolate`) in each value after parsing. One file per
//! section: `server`, `provider` (with `login`), `session`, `tokens`, `limits`, `routes` (with
//! `access`: a route's `require`, `identity_headers` and `upstream_headers`); `tls` reads the
//! TLS keys of `server` and `routes` (and their files); `load` has the entry points and the
//! top-level table.
//!
//! Adding a key to a route: a field in `model::RouteConfig` and a row in `routes::route` (with
//! its default and reader); a check between keys goes in `routes::check`. Code that builds a
//! route without a file (tests, benches) starts from `RouteConfig::new`, which applies the same
//! table, so it needs no edit for a new key.

pub mod access;
mod fields;
mod interpolate;
mod limits;
mod load;
pub mod model;
mod problems;
mod provider;
mod read;
mod routes;
mod section;
mod server;
mod session;
#[cfg(test)]
mod tests;
mod tls;
mod tokens;
mod walker;
mod yaml;

pub use load::{check_file, check_str, load_file, parse_str, Checked};
pub use model::*;
pub use problems::{ConfigError, ConfigErrors, ConfigWarning};
