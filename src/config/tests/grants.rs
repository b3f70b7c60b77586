//! The `grant:` key of a route (docs/reference.md#token-grants).

use super::*;
use crate::config::model::GrantType;

#[test]
fn grant_defaults_to_refresh_token_and_reads_each_value() {
    assert_eq!(ok(MINIMAL).routes[0].grant, GrantType::RefreshToken);
    for (text, grant) in [
        ("refresh_token", GrantType::RefreshToken),
        ("token_exchange", GrantType::TokenExchange),
        ("client_credentials", GrantType::ClientCredentials),
    ] {
        let config = ok(&with_route_line(&format!("grant: {text}")));
        assert_eq!(config.routes[0].grant, grant, "{text}");
        assert_eq!(grant.as_str(), text);
    }
}

#[test]
fn an_unknown_grant_names_the_values_it_may_take() {
    one_error(
        &with_route_line("grant: password"),
        "routes[0].grant",
        "must be one of: refresh_token, token_exchange, client_credentials (got \"password\")",
    );
}

#[test]
fn token_exchange_needs_a_session() {
    one_error(
        &(with_route_line("grant: token_exchange") + "    auth: none\n"),
        "routes[0].grant",
        "token_exchange needs a session's access token: set auth: required or optional",
    );
    let optional = with_route_line("grant: token_exchange") + "    auth: optional\n";
    assert_eq!(ok(&optional).routes[0].grant, GrantType::TokenExchange);
}

#[test]
fn client_credentials_allows_audience_and_scope_with_auth_none() {
    let text = with_route_line("grant: client_credentials")
        + "    auth: none\n    audience: https://a.example\n    scope: read\n";
    let route = &ok(&text).routes[0];
    assert_eq!(route.grant, GrantType::ClientCredentials);
    assert_eq!(route.audience.as_deref(), Some("https://a.example"));
    assert_eq!(route.scope, Scope::parse("read"));
}
