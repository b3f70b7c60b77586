//! Step 9, token: the route's access token for its audience and scope, by the route's grant
//! (`docs/reference.md#token-grants`): from the session's cache or the token endpoint
//! (`tokens::broker`, one exchange at a time per session; token exchange on top of it in
//! `tokens::grant::exchange`), or the gateway's own client-credentials token, which needs no
//! session. A failure is answered by the outcome table (`TokenError::reply`,
//! `docs/reference.md#token-endpoint-outcomes`), still carrying the session's cookie: a failed
//! exchange can have rotated the refresh token.

use super::{respond, Flow, RequestState, TokenState};
use crate::app::App;
use crate::config::GrantType;
use crate::tokens::broker::{ClaimsUpdater, Settings, TokenNeed};
use crate::tokens::grant::{exchange, Via};
use crate::tokens::TokenError;
use std::ops::ControlFlow;

pub async fn step(app: &App, state: &mut RequestState) -> Flow {
    let Some(route) = state.route.as_ref() else {
        return ControlFlow::Continue(());
    };
    let loaded = &state.loaded;
    let route = &route.config;
    let need = TokenNeed {
        route: &route.name,
        audience: route
            .audience
            .as_deref()
            .or(loaded.config.provider.login.audience.as_deref()),
        scope: &route.scope,
        via: Via::REFRESH,
    };
    let claims = super::claims::updater(app, loaded);
    let settings = Settings {
        policy: loaded.policy,
        provider: &loaded.config.provider,
        keys: &loaded.keys,
        lifetime: &loaded.lifetime,
        claims: claims.as_ref().map(|c| c as &dyn ClaimsUpdater),
    };
    let got = match (route.grant, state.session.view.as_mut()) {
        (GrantType::ClientCredentials, _) => {
            let client = app.broker.client();
            let (provider, leeway) = (settings.provider, settings.policy.leeway);
            app.client_credentials
                .token_for(client, &app.metrics, provider, need, leeway)
                .await
        }
        (_, None) => return ControlFlow::Continue(()),
        (GrantType::TokenExchange, Some(view)) => {
            exchange::token_for(&app.broker, view, need, settings).await
        }
        (GrantType::RefreshToken, Some(view)) => app.broker.token_for(view, need, settings).await,
    };
    match got {
        Ok((token, decision)) => {
            state.token = TokenState::Attached { token, decision };
            ControlFlow::Continue(())
        }
        Err(e) => {
            state.token = TokenState::Failed;
            if e == TokenError::SessionExpired {
                state.session.clear = true;
            }
            let cookies = respond::set_cookies(app, state);
            ControlFlow::Break(e.reply().with_cookies(cookies))
        }
    }
}
