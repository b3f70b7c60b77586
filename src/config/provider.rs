//! The `provider` section and its `login` part: the OpenID provider, this gateway's client at it,
//! and what the login asks for (docs/reference.md#provider).

use super::fields;
use super::model::{ClientAuth, LoginConfig, ProviderConfig, ResourceParam};
use super::read;
use super::section::section;
use super::walker::{join, Field, Walker};
use super::yaml::Node;
use crate::scope::Scope;
use std::time::Duration;

const CLIENT_AUTH: &[(&str, ClientAuth)] = &[
    ("client_secret_post", ClientAuth::ClientSecretPost),
    ("client_secret_basic", ClientAuth::ClientSecretBasic),
];

const RESOURCE_PARAM: &[(&str, ResourceParam)] = &[
    ("audience", ResourceParam::Audience),
    ("resource", ResourceParam::Resource),
];

pub(crate) fn provider(w: &mut Walker, path: &str, node: &Node) -> Field<ProviderConfig> {
    section!(w, path, node, ProviderConfig {
        issuer: required => read::parsed(fields::issuer),
        client_id: required => read::non_empty,
        client_secret: required => read::parsed(fields::client_secret),
        client_auth: default(ClientAuth::ClientSecretPost) => read::choice(CLIENT_AUTH),
        resource_param: default(ResourceParam::Audience) => read::choice(RESOURCE_PARAM),
        login: nested => login,
        timeout: default(Duration::from_secs(5)) => read::positive_duration,
        userinfo: default(false) => read::boolean,
        rotates_refresh_tokens: default(true) => read::boolean,
    })
}

fn login(w: &mut Walker, path: &str, node: &Node) -> Field<LoginConfig> {
    let login = section!(w, path, node, LoginConfig {
        scope: default(Scope::parse("openid profile email offline_access"))
            => read::parsed(fields::login_scope),
        audience: optional => read::non_empty,
    });
    if let Field::Value(l) = &login {
        if !l.scope.contains("offline_access") {
            w.warn(
                &join(path, "scope"),
                "has no offline_access, so the provider may issue no refresh token: then a \
                 route of another audience answers 403 token_unavailable (no_refresh_token), and \
                 one the login token does not serve (another scope, or once it expired) ends the \
                 session with 401 session_expired; add offline_access",
            );
        }
    }
    login
}
