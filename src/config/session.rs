//! The `session` section: the cookie, its keys, the store and the lifetimes
//! (docs/reference.md#session).

use super::fields;
use super::model::{SessionConfig, StoreKind};
use super::read;
use super::section::section;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use std::time::Duration;

const STORE: &[(&str, StoreKind)] = &[("cookie", StoreKind::Cookie), ("redis", StoreKind::Redis)];

/// `cookie_name` is left empty when the file does not set it: its default depends on
/// `server.public_url`, which `load` applies once every section is read.
pub(crate) fn session(w: &mut Walker, path: &str, node: &Node) -> Field<SessionConfig> {
    let session = section!(w, path, node, SessionConfig {
        cookie_name: default(String::new()) => read::parsed(fields::cookie_name),
        keys: required => keys,
        store: default(StoreKind::Cookie) => read::choice(STORE),
        redis_url: optional => read::parsed(fields::redis_url),
        absolute_lifetime: default(Duration::from_secs(7 * 24 * 3600))
            => read::positive_duration,
        idle_timeout: optional => read::positive_duration,
    });
    if let Field::Value(s) = &session {
        if s.store == StoreKind::Redis && s.redis_url.is_none() {
            w.error(
                &join(path, "redis_url"),
                "required when session.store is redis",
            );
        }
    }
    session
}

/// `session.keys`: a non-empty list; every bad entry is reported under its index.
fn keys(w: &mut Walker, path: &str, node: &Node) -> Field<Vec<[u8; 32]>> {
    let keys = read::list("keys", read::parsed(fields::session_key))(w, path, node);
    if matches!(&keys, Field::Value(k) if k.is_empty()) {
        w.error(
            path,
            "at least one key is required (`tokengate keygen` prints one)",
        );
        return Field::Bad;
    }
    keys
}
