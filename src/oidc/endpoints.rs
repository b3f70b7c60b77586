//! The gateway's own endpoints under `/auth/`: login, callback, logout, session. They never reach
//! an upstream. Each handler turns the request into a [`Reply`]; failures are JSON errors and
//! never leave a session behind.

use super::id_token::IdTokenError;
use super::login::{self, Transaction};
use crate::app::{App, Loaded};
use crate::http::{ErrorCode, Reply};
use crate::path::safe_return_to;
use crate::session::cookie::set_cookie::{self, CookieAttrs};
use crate::session::cookie::{header, CookieSession};
use crate::session::model::{now, Session, TokenSet, User};
use crate::session::store::{reference_purpose, StoreError};
use crate::tokens::response::{judge, Exchange};
use pingora::proxy::Session as HttpSession;
use serde_json::json;

/// Answers a request whose normalised path is under `/auth`.
pub async fn handle(app: &App, loaded: &Loaded, req: &mut HttpSession, path: &str) -> Reply {
    let method = req.req_header().method.clone();
    match (path, method.as_str()) {
        ("/auth/session", "GET" | "HEAD") => session_info(app, loaded, req).await,
        ("/auth/login", "GET" | "HEAD") => start_login(app, loaded, req).await,
        ("/auth/callback", "GET") => callback(app, loaded, req).await,
        ("/auth/logout", "GET" | "POST") => logout(app, loaded, req).await,
        ("/auth/backchannel-logout", "POST") => super::backchannel::handle(app, loaded, req).await,
        (
            "/auth/session"
            | "/auth/login"
            | "/auth/callback"
            | "/auth/logout"
            | "/auth/backchannel-logout",
            _,
        ) => Reply::error(405, ErrorCode::MethodNotAllowed),
        _ => Reply::error(404, ErrorCode::NotFound),
    }
}

fn query_param(req: &HttpSession, name: &str) -> Option<String> {
    let q = req.req_header().uri.query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The request's session (if any) and the session-cookie chunks it carried.
async fn current_session(
    app: &App,
    loaded: &Loaded,
    req: &HttpSession,
) -> Result<(Option<std::sync::Arc<Session>>, Vec<usize>), StoreError> {
    let read = loaded
        .session_reader()
        .read(&req.req_header().headers, now());
    let chunks = read.chunks().to_vec();
    let session = match read {
        CookieSession::Valid { session, .. } => app.broker.resolve(session).map(|v| v.session),
        CookieSession::Reference { sid, .. } => app
            .broker
            .resolve_reference(&sid, &loaded.keys, &loaded.lifetime)
            .await?
            .map(|v| v.session),
        _ => None,
    };
    Ok((session, chunks))
}

/// `GET /auth/session`: who is logged in, never a token.
async fn session_info(app: &App, loaded: &Loaded, req: &HttpSession) -> Reply {
    let Ok(current) = current_session(app, loaded, req).await else {
        return Reply::store_unavailable();
    };
    match current {
        (Some(s), _) => Reply::json(
            200,
            json!({
                "authenticated": true,
                "user": { "sub": s.user.sub, "name": s.user.name, "email": s.user.email },
                "expires_at": s.created_at.saturating_add(loaded.config.session.absolute_lifetime.as_secs()),
            }),
        ),
        (None, chunks) if chunks.is_empty() => Reply::json(401, json!({ "authenticated": false })),
        (None, chunks) => Reply::json(401, json!({ "authenticated": false }))
            .with_cookies(loaded.cookies.clear(&chunks)),
    }
}

/// `GET /auth/login?returnTo=/path`: a new transaction and a redirect to the provider.
async fn start_login(app: &App, loaded: &Loaded, req: &HttpSession) -> Reply {
    let meta = match app.discovery().get().await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "login: provider discovery failed");
            return Reply::error(502, ErrorCode::ProviderUnavailable);
        }
    };
    let return_to = safe_return_to(query_param(req, "returnTo").as_deref());
    let tx = Transaction::new(return_to, now());
    let name = &loaded.config.session.cookie_name;
    let Ok(plain) = serde_json::to_vec(&tx) else {
        return Reply::error(500, ErrorCode::Internal);
    };
    let Ok(sealed) = loaded.keys.seal(&login::transaction_purpose(name), &plain) else {
        return Reply::error(500, ErrorCode::Internal);
    };
    let cookie = set_cookie::set_cookie(
        &login::transaction_cookie_name(name, &tx.state),
        &sealed,
        &CookieAttrs {
            secure: loaded.cookies.secure,
            max_age: Some(login::TRANSACTION_TTL_SECS),
        },
    );
    let url = login::authorization_url(&meta.authorization_endpoint, &loaded.config, &tx);
    Reply::redirect(url.as_str()).with_cookies([cookie])
}

fn login_error(status: u16, code: ErrorCode, detail: Option<&str>, clear: Vec<String>) -> Reply {
    let reply = match detail {
        Some(d) => Reply::error_detail(status, code, d),
        None => Reply::error(status, code),
    };
    reply.with_cookies(clear)
}

/// `GET /auth/callback?code&state`: checks the transaction, exchanges the code, validates the
/// ID token and creates the session.
async fn callback(app: &App, loaded: &Loaded, req: &HttpSession) -> Reply {
    let name = &loaded.config.session.cookie_name;
    let secure = loaded.cookies.secure;
    let Some(state) = query_param(req, "state").filter(|s| login::plausible_state(s)) else {
        return login_error(400, ErrorCode::InvalidState, None, Vec::new());
    };
    let tx_cookie = login::transaction_cookie_name(name, &state);
    let clear_tx = vec![set_cookie::clear_cookie(&tx_cookie, secure)];
    let tx: Option<Transaction> = header::find(&req.req_header().headers, &tx_cookie)
        .and_then(|v| loaded.keys.open(&login::transaction_purpose(name), v).ok())
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    let Some(tx) = tx.filter(|t| t.state == state && !t.expired(now())) else {
        return login_error(400, ErrorCode::InvalidState, None, clear_tx);
    };
    if let Some(err) = query_param(req, "error") {
        let code = sanitize_code(&err);
        return login_error(400, ErrorCode::LoginFailed, Some(&code), clear_tx);
    }
    let Some(code) = query_param(req, "code").filter(|c| !c.is_empty()) else {
        return login_error(400, ErrorCode::MissingCode, None, clear_tx);
    };
    let meta = match app.discovery().get().await {
        Ok(m) => m,
        Err(_) => return login_error(502, ErrorCode::ProviderUnavailable, None, clear_tx),
    };

    let provider = &loaded.config.provider;
    let redirect_uri = login::redirect_uri(&loaded.config);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", tx.code_verifier.as_str()),
    ];
    if let Some(aud) = &provider.login.audience {
        form.push((provider.resource_param.as_str(), aud.as_str()));
    }
    let raw = match app.broker.client().post_token(provider, form).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = ?e, "login: code exchange failed");
            return login_error(502, ErrorCode::ProviderUnavailable, None, clear_tx);
        }
    };
    let t = now();
    let login_audience = provider.login.audience.as_deref();
    let (grant, refresh_token, id_token) = match judge(
        raw.status,
        &raw.body,
        login_audience,
        &provider.login.scope,
        t,
    ) {
        Exchange::Success {
            grant,
            refresh_token,
            id_token,
        } => (grant, refresh_token, id_token),
        Exchange::InvalidGrant => return login_error(400, ErrorCode::InvalidCode, None, clear_tx),
        Exchange::Unavailable { .. } => {
            return login_error(502, ErrorCode::ProviderUnavailable, None, clear_tx)
        }
        Exchange::Denied { code, .. } => {
            return login_error(502, ErrorCode::ProviderError, Some(&code), clear_tx)
        }
        Exchange::InvalidResponse { reason, .. } => {
            return login_error(
                502,
                ErrorCode::ProviderInvalidResponse,
                Some(reason),
                clear_tx,
            )
        }
        Exchange::AudienceMismatch { .. } => {
            return login_error(
                502,
                ErrorCode::ProviderInvalidResponse,
                Some("audience_mismatch"),
                clear_tx,
            )
        }
    };
    let Some(id_token) = id_token else {
        return login_error(502, ErrorCode::InvalidIdToken, Some("missing"), clear_tx);
    };
    let claims = match app
        .jwks
        .validate(
            &id_token,
            &meta.jwks_uri,
            &meta.issuer,
            &provider.client_id,
            &tx.nonce,
        )
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "login: ID token rejected");
            let detail = match e {
                IdTokenError::Jwks(_) => "jwks_unavailable",
                IdTokenError::Nonce => "nonce",
                IdTokenError::Azp => "azp",
                IdTokenError::UnknownKey => "unknown_key",
                IdTokenError::Algorithm => "algorithm",
                IdTokenError::Malformed | IdTokenError::Invalid(_) => "invalid",
            };
            return login_error(502, ErrorCode::InvalidIdToken, Some(detail), clear_tx);
        }
    };

    let mut session = Session::new(
        User {
            sub: claims.sub,
            name: claims.name,
            email: claims.email,
            sid: claims.sid,
        },
        t,
    );
    session.refresh_token = refresh_token;
    session.id_token = Some(id_token);
    session.primary = Some(TokenSet {
        audience: login_audience.map(str::to_owned),
        scope: grant.scope,
        requested: provider.login.scope.clone(),
        access_token: grant.access_token,
        expires_at: grant.expires_at,
        last_used: t,
    });
    tracing::info!(sub = %session.user.sub, "login: session created");
    let sealed = match store_new_session(app, loaded, &session).await {
        Ok(s) => s,
        Err(reply) => return reply.with_cookies(clear_tx),
    };
    let previous = loaded.cookies.present(&req.req_header().headers);
    let mut set = loaded
        .cookies
        .write(&sealed, &previous, loaded.lifetime.max_age(&session, t));
    set.extend(clear_tx);
    Reply::redirect(&tx.return_to).with_cookies(set)
}

/// Persists a new session and returns the cookie value that carries it: the whole sealed
/// session (cookie store) or a sealed reference to its Redis record.
async fn store_new_session(app: &App, loaded: &Loaded, session: &Session) -> Result<String, Reply> {
    let name = &loaded.config.session.cookie_name;
    match app.broker.redis() {
        None => loaded.keys.seal_session(name, session).map_err(|e| {
            tracing::error!(error = %e, "login: the new session could not be sealed");
            Reply::error(502, ErrorCode::SessionTooLarge)
        }),
        Some(store) => {
            let ttl = loaded.lifetime.record_ttl(session, now());
            if let Err(e) = store.save(&loaded.keys, session, ttl).await {
                tracing::warn!(error = %e, "login: the session could not be stored");
                return Err(Reply::store_unavailable());
            }
            loaded
                .keys
                .seal(&reference_purpose(name), session.sid.as_bytes())
                .map_err(|_| Reply::error(500, ErrorCode::Internal))
        }
    }
}

/// `GET|POST /auth/logout`: revoke the refresh token (when the provider can), forget the session,
/// clear the cookie, and send the browser to the provider's logout.
async fn logout(app: &App, loaded: &Loaded, req: &HttpSession) -> Reply {
    let Ok((session, chunks)) = current_session(app, loaded, req).await else {
        return Reply::store_unavailable();
    };
    let meta = app.discovery().cached();
    let mut location = "/".to_string();
    if let Some(s) = &session {
        app.broker.end(&s.sid);
        if let Some(store) = app.broker.redis() {
            if let Err(e) = store.delete(s).await {
                tracing::warn!(error = %e, "logout: the session record could not be deleted");
                return Reply::store_unavailable();
            }
        }
        app.metrics
            .sessions_cleared
            .with_label_values(&["logout"])
            .inc();
        if let (Some(rt), Some(endpoint)) = (
            &s.refresh_token,
            meta.as_ref().and_then(|m| m.revocation_endpoint.clone()),
        ) {
            let form = vec![("token", rt.as_str()), ("token_type_hint", "refresh_token")];
            match app
                .broker
                .client()
                .post_form(&loaded.config.provider, endpoint, form)
                .await
            {
                Ok(r) if r.status == 200 => tracing::info!("logout: refresh token revoked"),
                Ok(r) => tracing::warn!(status = r.status, "logout: revocation refused"),
                Err(e) => tracing::warn!(error = ?e, "logout: revocation failed"),
            }
        }
        if let Some(end) = meta.as_ref().and_then(|m| m.end_session_endpoint.clone()) {
            let mut url = end;
            {
                let mut q = url.query_pairs_mut();
                if let Some(idt) = &s.id_token {
                    q.append_pair("id_token_hint", idt);
                }
                q.append_pair("client_id", &loaded.config.provider.client_id);
                q.append_pair(
                    "post_logout_redirect_uri",
                    &format!(
                        "{}/",
                        loaded
                            .config
                            .server
                            .public_url
                            .as_str()
                            .trim_end_matches('/')
                    ),
                );
            }
            location = url.to_string();
        }
        tracing::info!(sub = %s.user.sub, "logout: session ended");
    }
    let mut clear = chunks;
    if !clear.contains(&0) {
        clear.push(0);
    }
    Reply::redirect(&location).with_cookies(loaded.cookies.clear(&clear))
}

/// Provider error codes are echoed in `detail`; only plain codes pass.
fn sanitize_code(code: &str) -> String {
    if !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        code.to_owned()
    } else {
        "invalid_error_code".to_owned()
    }
}
