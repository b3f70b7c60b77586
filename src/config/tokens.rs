//! The `tokens` section: how long a cached access token is trusted and how many are kept per
//! session (docs/reference.md#tokens).

use super::model::TokensConfig;
use super::read;
use super::section::section;
use super::walker::{Field, Walker};
use super::yaml::Node;
use std::time::Duration;

pub(crate) fn tokens(w: &mut Walker, path: &str, node: &Node) -> Field<TokensConfig> {
    section!(w, path, node, TokensConfig {
        expiry_leeway: default(Duration::from_secs(60)) => read::duration,
        max_cached: default(16) => read::count(0, 64),
        latest_state_max_bytes: default(256 * 1024 * 1024) => read::count(64 * 1024, 1 << 40),
    })
}
