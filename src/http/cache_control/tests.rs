//! A response with the session cookie is never cacheable by a shared cache.

use super::*;

#[test]
fn without_a_directive_it_is_private_no_store() {
    assert_eq!(private_no_store(None), "private, no-store");
    assert_eq!(private_no_store(Some("")), "private, no-store");
}

#[test]
fn permissive_directives_are_dropped() {
    assert_eq!(
        private_no_store(Some("public, max-age=3600, s-maxage=60, immutable")),
        "private, no-store"
    );
    assert_eq!(
        private_no_store(Some("PUBLIC, Max-Age=5")),
        "private, no-store"
    );
}

#[test]
fn stricter_directives_are_kept_once() {
    assert_eq!(
        private_no_store(Some("no-store, no-cache, must-revalidate")),
        "private, no-store, no-cache, must-revalidate"
    );
    assert_eq!(
        private_no_store(Some("private, no-transform")),
        "private, no-store, no-transform"
    );
}
