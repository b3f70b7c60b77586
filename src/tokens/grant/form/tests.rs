use super::*;
use crate::tokens::response::Grant;
use crate::tokens::scope::Scope;

#[test]
fn refresh_token_form() {
    let f = form(
        GrantRequest::RefreshToken("rt-1"),
        "audience",
        Some("https://a.example"),
        "read write",
    );
    assert_eq!(
        f,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-1"),
            ("audience", "https://a.example"),
            ("scope", "read write"),
        ]
    );
}

#[test]
fn token_exchange_form_presents_the_subject_and_never_a_refresh_token() {
    let f = form(
        GrantRequest::TokenExchange {
            subject_token: "at-1",
        },
        "resource",
        Some("https://a.example"),
        "read",
    );
    assert_eq!(
        f,
        vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange"
            ),
            ("subject_token", "at-1"),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token"
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:access_token"
            ),
            ("resource", "https://a.example"),
            ("scope", "read"),
        ]
    );
}

#[test]
fn client_credentials_form_has_no_user_credential_and_no_empty_fields() {
    let f = form(GrantRequest::ClientCredentials, "audience", None, "");
    assert_eq!(f, vec![("grant_type", "client_credentials")]);
}

#[test]
fn labels() {
    assert_eq!(GrantRequest::RefreshToken("x").label(), "refresh_token");
    assert_eq!(
        GrantRequest::TokenExchange { subject_token: "x" }.label(),
        "token_exchange"
    );
    assert_eq!(
        GrantRequest::ClientCredentials.label(),
        "client_credentials"
    );
}

fn success() -> Exchange {
    Exchange::Success {
        grant: Grant {
            access_token: "at".into(),
            scope: Scope::parse("read"),
            expires_at: 10,
        },
        refresh_token: Some("rt-new".into()),
        id_token: Some("idt".into()),
    }
}

#[test]
fn only_a_refresh_answer_keeps_its_refresh_and_id_token() {
    assert_eq!(
        keep_for_session(GrantRequest::RefreshToken("rt"), success()).refresh_token(),
        Some("rt-new")
    );
    for request in [
        GrantRequest::TokenExchange { subject_token: "x" },
        GrantRequest::ClientCredentials,
    ] {
        let kept = keep_for_session(request, success());
        assert_eq!(kept.refresh_token(), None);
        let Exchange::Success {
            id_token, grant, ..
        } = kept
        else {
            panic!("still a success");
        };
        assert_eq!(id_token, None);
        assert_eq!(grant.access_token, "at");
        let denied = Exchange::Denied {
            code: "invalid_target".into(),
            refresh_token: Some("rt-new".into()),
        };
        assert_eq!(keep_for_session(request, denied).refresh_token(), None);
    }
}
