//! Tests of the harness itself (no gateway involved), so that when a gateway test fails the mock
//! provider and the echo upstream are known to behave as documented.

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::provider::{jwt_claims, CLIENT_ID, CLIENT_SECRET, OTHER_AUDIENCE};
use support::*;
use tokio_tungstenite::tungstenite::Message;

async fn exchange(p: &MockProvider, rt: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    form.extend_from_slice(extra);
    let r = client()
        .post(format!("{}/oauth/token", p.issuer()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_discovery_names_its_issuer_and_token_endpoint() {
    let p = MockProvider::start().await;
    let r = client()
        .get(format!("{}/.well-known/openid-configuration", p.issuer()))
        .send()
        .await
        .unwrap();
    let body = json_body(r).await;
    assert_eq!(body["issuer"], p.issuer());
    assert!(!p.issuer().ends_with('/'));
    assert_eq!(
        body["token_endpoint"],
        format!("{}/oauth/token", p.issuer())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_rotates_and_detects_reuse() {
    let p = MockProvider::start().await;
    let rt0 = p.mint_refresh_token();
    let (status, body) = exchange(
        &p,
        &rt0,
        &[("audience", "https://a.example"), ("scope", "read write")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read write");
    let claims = jwt_claims(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], "https://a.example");
    assert_eq!(claims["scope"], "read write");
    let rt1 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt0);
    assert!(!p.is_active(&rt0) && p.is_active(&rt1));

    // Reuse of rt0 revokes the family, rt1 included.
    let (status, body) = exchange(&p, &rt0, &[]).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_grant", "error_description": "invalid_grant"})
        )
    );
    assert_eq!(p.reuse_detected(), 1);
    assert_eq!(exchange(&p, &rt1, &[]).await.0, 400);
    assert_eq!(exchange(&p, "rt-unknown", &[]).await.0, 400);
    assert_eq!(p.call_count(), 4);
    assert_eq!(p.calls()[0].field("audience"), Some("https://a.example"));
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_without_rotation_keeps_the_token() {
    let p = MockProvider::start().await;
    p.set_rotation(false);
    let rt = p.mint_refresh_token();
    for _ in 0..2 {
        let (status, body) = exchange(&p, &rt, &[("resource", "https://r.example")]).await;
        assert_eq!(status, 200);
        assert!(body.get("refresh_token").is_none());
        let claims = jwt_claims(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://r.example");
    }
    assert_eq!(p.reuse_detected(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_faults() {
    let p = MockProvider::start().await;
    let rt = p.mint_refresh_token();

    p.set_fault(Fault::Status(429, r#"{"error":"slow_down"}"#.into()));
    assert_eq!(
        exchange(&p, &rt, &[]).await,
        (429, json!({"error": "slow_down"}))
    );
    assert!(p.is_active(&rt));

    p.set_fault(Fault::Json(json!({})));
    assert_eq!(exchange(&p, &rt, &[]).await, (200, json!({})));
    assert!(
        p.is_active(&rt),
        "a broken answer without rotation consumed the token"
    );

    p.set_fault_rotating(Fault::Json(json!({"access_token": ""})), true);
    let (status, body) = exchange(&p, &rt, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body["access_token"], "");
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(p.is_active(&rt));

    p.set_fault(Fault::WrongAudience);
    let (_, body) = exchange(&p, &rt, &[("audience", "https://a.example")]).await;
    let claims = jwt_claims(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["aud"], OTHER_AUDIENCE);
    let rt = body["refresh_token"].as_str().unwrap().to_owned();

    p.set_fault(Fault::NarrowScope("read".into()));
    let (_, body) = exchange(&p, &rt, &[("scope", "read write")]).await;
    assert_eq!(body["scope"], "read");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap()).unwrap()["scope"],
        "read"
    );
    let rt = body["refresh_token"].as_str().unwrap().to_owned();

    p.set_fault(Fault::TokenType("DPoP".into()));
    assert_eq!(exchange(&p, &rt, &[]).await.1["token_type"], "DPoP");

    p.set_fault(Fault::Html);
    let (status, body) = exchange(&p, &rt, &[]).await;
    assert_eq!(status, 200);
    assert!(body.as_str().unwrap().starts_with("<html>"));

    p.set_fault(Fault::Hang);
    let r = client()
        .post(format!("{}/oauth/token", p.issuer()))
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());

    p.clear_fault();
    assert_eq!(exchange(&p, &rt, &[]).await.0, 200);
    assert_eq!(p.reuse_detected(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_checks_client_authentication() {
    use base64::Engine;
    let p = MockProvider::start().await;
    let rt = p.mint_refresh_token();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let r = client()
        .post(format!("{}/oauth/token", p.issuer()))
        .header("authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(format!("{}/oauth/token", p.issuer()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        p.calls()[0].authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_reports_method_path_and_every_header_value() {
    let up = EchoUpstream::named("e1").await;
    let r = client()
        .put(format!("{}/a/b?c=1&d", up.url()))
        .header("x-multi", "1")
        .header("X-Multi", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(body["upstream"], "e1");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["path"], "/a/b?c=1&d");
    assert_eq!(body["headers"]["x-multi"], json!(["1", "2"]));
    assert_eq!(up.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_websocket_describes_then_echoes() {
    let up = EchoUpstream::start().await;
    let url = format!("{}/ws?x=1", up.url().replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = ws.next().await.unwrap().unwrap();
    let body: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(body["path"], "/ws?x=1");
    assert_eq!(body["headers"]["upgrade"], json!(["websocket"]));
    ws.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap().to_text().unwrap(),
        "hello"
    );
    assert_eq!(up.count(), 1);
}

#[test]
fn minted_cookies_round_trip_and_chunk() {
    let mut s = session_for("rt-1", "primary");
    let small = cookie_for(&s);
    assert!(small.starts_with("tokengate=") && !small.contains("tokengate.1="));
    assert_eq!(open_cookie_header(&small), Some(s.clone()));
    let exp = tokengate::session::model::now() + 60;
    for i in 0..5 {
        s.extra.push(token_set(
            Some("https://x"),
            "a",
            &"t".repeat(1200 + i),
            exp,
        ));
    }
    let big = cookie_for(&s);
    assert!(big.contains("tokengate.1=") && big.len() > 4000);
    assert_eq!(open_cookie_header(&format!("a=b; {big}")), Some(s.clone()));
    assert_eq!(open_cookie_header("tokengate=garbage"), None);
    assert_ne!(mint_cookie(&[1u8; 32], COOKIE, &s), big);
}

#[test]
fn set_cookie_helpers() {
    let sc = vec![
        "tokengate=abc; Path=/; HttpOnly; SameSite=Lax".to_owned(),
        "tokengate.1=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0".to_owned(),
        "other=1; Path=/".to_owned(),
    ];
    assert_eq!(cookie_header_from(&sc), "tokengate=abc; other=1");
    assert!(clears_cookie(&sc, "tokengate.1"));
    assert!(!clears_cookie(&sc, "tokengate"));
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_configs_pass_the_loader() {
    let p = MockProvider::start().await;
    let routes = route("a", "/a", "http://127.0.0.1:9", &["auth: none"])
        + &route(
            "b",
            "/b",
            "http://127.0.0.1:9",
            &[
                "audience: \"https://b.example\"",
                "scope: \"x y\"",
                "strip_prefix: true",
            ],
        );
    for yaml in [
        config(&p, &routes),
        ConfigBuilder::new(&p, &routes)
            .client_auth("client_secret_basic")
            .resource_param("resource")
            .max_cached(2)
            .build(),
    ] {
        let cfg = tokengate::config::parse_str(&yaml, &|_| None)
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(cfg.routes.len(), 2);
        assert_eq!(cfg.session.keys, vec![TEST_KEY]);
        assert_eq!(cfg.session.cookie_name, COOKIE);
        assert_eq!(cfg.provider.timeout, std::time::Duration::from_secs(1));
    }
}
