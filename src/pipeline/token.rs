//! Step 9, token: the route's access token for its audience and scope, from the session's cache
//! or from the token endpoint (`tokens::broker`, one exchange at a time per session). A failure
//! is answered by the outcome table (`TokenError::reply`,
//! `docs/reference.md#token-endpoint-outcomes`), still carrying the session's cookie: a failed
//! exchange can have rotated the refresh token.

use super::{respond, Flow, RequestState, TokenState};
use crate::app::App;
use crate::tokens::broker::{ClaimsUpdater, Settings, TokenNeed};
use crate::tokens::TokenError;
use std::ops::ControlFlow;

pub async fn step(app: &App, state: &mut RequestState) -> Flow {
    let (Some(route), Some(view)) = (state.route.as_ref(), state.session.view.as_mut()) else {
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
    };
    let claims = super::claims::updater(app, loaded);
    let settings = Settings {
        policy: loaded.policy,
        provider: &loaded.config.provider,
        keys: &loaded.keys,
        lifetime: &loaded.lifetime,
        claims: claims.as_ref().map(|c| c as &dyn ClaimsUpdater),
    };
    match app.broker.token_for(view, need, settings).await {
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
