//! Every row of the outcome table as a transition: what the session becomes, what the request
//! gets. No network, no clock: `NOW` is fixed.

use super::*;
use crate::scope::Scope;
use crate::session::model::User;
use crate::tokens::grant::Via;
use crate::tokens::response::Grant;

const NOW: u64 = 1_700_000_000;
const AUD: &str = "https://orders.example";

fn session() -> Session {
    let mut s = Session::new(
        User {
            sub: "u".into(),
            ..User::default()
        },
        NOW - 100,
    );
    s.sid = "sid-1".into();
    s.version = 7;
    s.refresh_token = Some("rt-old".into());
    s.id_token = Some("idt-old".into());
    s
}

fn policy() -> TokenPolicy {
    TokenPolicy {
        leeway: 60,
        max_cached: 4,
        latest_max_bytes: 1 << 20,
        cookie: None,
    }
}

fn scope() -> Scope {
    Scope::parse("read write")
}

fn run(exchange: Exchange) -> (Next, Answer) {
    let scope = scope();
    let need = TokenNeed {
        route: "orders",
        audience: Some(AUD),
        scope: &scope,
        via: Via::REFRESH,
    };
    apply(&session(), need, policy(), exchange, NOW)
}

fn success(granted: &str, rt: Option<&str>, idt: Option<&str>) -> Exchange {
    Exchange::Success {
        grant: Grant {
            access_token: "at-new".into(),
            scope: Scope::parse(granted),
            expires_at: NOW + 3600,
        },
        refresh_token: rt.map(str::to_owned),
        id_token: idt.map(str::to_owned),
    }
}

/// The new version of a `Next::Version`, or a panic naming what came instead.
fn version(next: Next) -> Session {
    match next {
        Next::Version(s) => *s,
        other => panic!("expected a new version, got {other:?}"),
    }
}

#[test]
fn success_with_rotation_and_id_token_stores_all_three() {
    let (next, answer) = run(success("read write", Some("rt-new"), Some("idt-new")));
    assert_eq!(answer, Ok(("at-new".to_owned(), Decision::Refreshed)));
    let s = version(next);
    assert_eq!(s.version, 8);
    assert_eq!(s.refresh_token.as_deref(), Some("rt-new"));
    assert_eq!(s.id_token.as_deref(), Some("idt-new"));
    assert_eq!(s.extra.len(), 1);
    let t = &s.extra[0];
    assert_eq!(t.audience.as_deref(), Some(AUD));
    assert_eq!(t.access_token, "at-new");
    assert_eq!(t.scope, scope());
    assert_eq!(t.requested, scope());
    assert_eq!((t.expires_at, t.last_used), (NOW + 3600, NOW));
}

#[test]
fn success_without_rotation_keeps_the_refresh_and_id_tokens() {
    let (next, answer) = run(success("read write", None, None));
    assert!(answer.is_ok());
    let s = version(next);
    assert_eq!(s.version, 8);
    assert_eq!(s.refresh_token.as_deref(), Some("rt-old"));
    assert_eq!(s.id_token.as_deref(), Some("idt-old"));
    assert_eq!(s.extra.len(), 1);
}

#[test]
fn success_with_a_new_id_token_only() {
    let s = version(run(success("read write", None, Some("idt-new"))).0);
    assert_eq!(s.refresh_token.as_deref(), Some("rt-old"));
    assert_eq!(s.id_token.as_deref(), Some("idt-new"));
}

#[test]
fn a_narrow_grant_is_kept_and_answered_with_what_is_missing() {
    let (next, answer) = run(success("read", Some("rt-new"), None));
    assert_eq!(
        answer,
        Err(TokenError::InsufficientScope {
            missing: Scope::parse("write")
        })
    );
    let s = version(next);
    assert_eq!(s.refresh_token.as_deref(), Some("rt-new"));
    assert_eq!(
        s.extra.len(),
        1,
        "the narrow token is kept, so it is not asked for again"
    );
    assert_eq!(s.extra[0].scope, Scope::parse("read"));
    assert_eq!(s.extra[0].requested, scope());
}

#[test]
fn success_prunes_expired_token_sets() {
    let mut old = session();
    old.extra.push(crate::session::model::TokenSet {
        audience: Some("https://gone.example".into()),
        scope: Scope::parse("x"),
        requested: Scope::parse("x"),
        access_token: "expired".into(),
        expires_at: NOW + 10,
        last_used: NOW - 50,
    });
    let scope = scope();
    let need = TokenNeed {
        route: "orders",
        audience: Some(AUD),
        scope: &scope,
        via: Via::REFRESH,
    };
    let (next, _) = apply(&old, need, policy(), success("read write", None, None), NOW);
    let s = version(next);
    assert_eq!(s.extra.len(), 1);
    assert_eq!(s.extra[0].access_token, "at-new");
}

#[test]
fn invalid_grant_ends_the_session() {
    assert_eq!(
        run(Exchange::InvalidGrant),
        (Next::Ended, Err(TokenError::SessionExpired))
    );
}

#[test]
fn unavailable_changes_nothing() {
    for status in [None, Some(503), Some(429)] {
        assert_eq!(
            run(Exchange::Unavailable { status }),
            (
                Next::Keep,
                Err(TokenError::Unavailable {
                    retry_after: DEFAULT_RETRY_AFTER
                })
            )
        );
    }
}

#[test]
fn denied_without_rotation_changes_nothing() {
    let (next, answer) = run(Exchange::Denied {
        code: "access_denied".into(),
        refresh_token: None,
    });
    assert_eq!(next, Next::Keep);
    assert_eq!(
        answer,
        Err(TokenError::Denied {
            code: "access_denied".into()
        })
    );
}

/// The failed answers that may still carry a rotated refresh token, with the error each gives.
fn failures(rt: Option<&str>) -> Vec<(Exchange, TokenError)> {
    let rt = rt.map(str::to_owned);
    vec![
        (
            Exchange::Denied {
                code: "invalid_scope".into(),
                refresh_token: rt.clone(),
            },
            TokenError::Denied {
                code: "invalid_scope".into(),
            },
        ),
        (
            Exchange::InvalidResponse {
                reason: "missing_access_token",
                refresh_token: rt.clone(),
            },
            TokenError::InvalidResponse,
        ),
        (
            Exchange::AudienceMismatch { refresh_token: rt },
            TokenError::AudienceMismatch,
        ),
    ]
}

#[test]
fn failures_without_rotation_change_nothing() {
    for (exchange, error) in failures(None) {
        assert_eq!(run(exchange), (Next::Keep, Err(error)));
    }
}

#[test]
fn failures_with_rotation_keep_only_the_new_refresh_token() {
    for (exchange, error) in failures(Some("rt-new")) {
        let (next, answer) = run(exchange);
        assert_eq!(answer, Err(error));
        let s = version(next);
        let mut expected = session();
        expected.version = 8;
        expected.refresh_token = Some("rt-new".into());
        assert_eq!(
            s, expected,
            "nothing but the refresh token and the version changed"
        );
    }
}

fn run_exchange(last_try: bool, exchange: Exchange) -> (Next, Answer) {
    let scope = scope();
    let need = TokenNeed {
        route: "orders",
        audience: Some(AUD),
        scope: &scope,
        via: Via::Exchange {
            subject: "at-primary",
            last_try,
        },
    };
    apply(&session(), need, policy(), exchange, NOW)
}

#[test]
fn a_refused_subject_keeps_the_session_for_one_more_try_then_ends_it() {
    assert_eq!(
        run_exchange(false, Exchange::InvalidGrant),
        (Next::Keep, Err(TokenError::SubjectRejected))
    );
    assert_eq!(
        run_exchange(true, Exchange::InvalidGrant),
        (Next::Ended, Err(TokenError::SessionExpired))
    );
}

#[test]
fn an_exchanged_token_is_cached_and_the_refresh_token_stays() {
    let (next, answer) = run_exchange(false, success("read write", None, None));
    assert_eq!(answer, Ok(("at-new".to_owned(), Decision::Refreshed)));
    let s = version(next);
    assert_eq!(s.refresh_token, session().refresh_token);
    assert!(s.extra.iter().any(|t| t.access_token == "at-new"));
}
