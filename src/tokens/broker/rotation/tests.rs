//! Only the declaration relaxes the one-exchange-at-a-time rule; a rotation under a "never"
//! declaration is noticed.

use super::*;
use crate::scope::Scope;
use crate::tokens::response::Grant;

fn success(rt: Option<&str>) -> Exchange {
    Exchange::Success {
        grant: Grant {
            access_token: "at".into(),
            scope: Scope::parse("read"),
            expires_at: 1,
        },
        refresh_token: rt.map(str::to_owned),
        id_token: None,
    }
}

#[test]
fn only_a_declared_never_allows_overlap() {
    assert!(!Rotation::declared(true).allows_overlap());
    assert!(Rotation::declared(false).allows_overlap());
}

#[test]
fn a_rotation_contradicts_only_a_never_declaration() {
    let never = Rotation::Never;
    assert!(never.contradicted_by("rt-1", &success(Some("rt-2"))));
    assert!(!never.contradicted_by("rt-1", &success(Some("rt-1"))));
    assert!(!never.contradicted_by("rt-1", &success(None)));
    let denied = Exchange::Denied {
        code: "invalid_scope".into(),
        refresh_token: Some("rt-2".into()),
    };
    assert!(never.contradicted_by("rt-1", &denied));
    assert!(!Rotation::MayRotate.contradicted_by("rt-1", &success(Some("rt-2"))));
}
