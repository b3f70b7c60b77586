//! Forced logout (docs/reference.md#gateway-endpoints): a third-party page cannot end a session.
//! `POST /auth/logout` follows the CSRF rule; a `GET` the browser marks as cross-site or
//! same-site needs `?sid=` from `/auth/session`. A refused logout keeps the session.

use crate::support::{client, json_body};
use crate::Stand;
use serde_json::json;

async fn logout(
    s: &Stand,
    method: reqwest::Method,
    query: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client()
        .request(method, s.gw.url(&format!("/auth/logout{query}")))
        .header("cookie", &s.cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("send")
}

async fn api_status(s: &Stand) -> u16 {
    let r = client()
        .get(s.gw.url("/api/x"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .expect("send");
    r.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logout_from_another_site_is_403_and_keeps_the_session_unless_it_names_the_sid() {
    let s = Stand::start("").await;
    let refused: [(reqwest::Method, &[(&str, &str)]); 5] = [
        (reqwest::Method::POST, &[("origin", "https://evil.example")]),
        (reqwest::Method::POST, &[("sec-fetch-site", "cross-site")]),
        (reqwest::Method::GET, &[("sec-fetch-site", "cross-site")]),
        (reqwest::Method::GET, &[("sec-fetch-site", "same-site")]),
        (
            reqwest::Method::GET,
            &[("sec-fetch-site", "cross-site"), ("origin", "null")],
        ),
    ];
    for (method, headers) in refused {
        let r = logout(&s, method.clone(), "?sid=guess", headers).await;
        assert_eq!(r.status(), 403, "{method} {headers:?}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{method} {headers:?}: cookie kept"
        );
        assert_eq!(json_body(r).await, json!({"error": "csrf"}));
        assert_eq!(
            api_status(&s).await,
            200,
            "{method} {headers:?}: session kept"
        );
    }
    let info = client()
        .get(s.gw.url("/auth/session"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .expect("send");
    let sid = json_body(info).await["sid"]
        .as_str()
        .expect("a sid")
        .to_owned();
    let cross = [("sec-fetch-site", "cross-site")];
    let r = logout(&s, reqwest::Method::GET, &format!("?sid={sid}"), &cross).await;
    assert_eq!(r.status(), 302);
    assert_eq!(api_status(&s).await, 401, "logged out");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_origin_logout_needs_no_sid() {
    for (method, header) in [
        (reqwest::Method::POST, ("origin", "ORIGIN")),
        (reqwest::Method::POST, ("x-csrf", "1")),
        (reqwest::Method::GET, ("sec-fetch-site", "same-origin")),
        (reqwest::Method::GET, ("sec-fetch-site", "none")),
    ] {
        let s = Stand::start("").await;
        let origin = s.gw.origin();
        let value = if header.1 == "ORIGIN" {
            origin.as_str()
        } else {
            header.1
        };
        let r = logout(&s, method.clone(), "", &[(header.0, value)]).await;
        assert_eq!(r.status(), 302, "{method} {header:?}");
        assert_eq!(api_status(&s).await, 401, "{method} {header:?}: logged out");
    }
}
