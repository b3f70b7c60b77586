//! The cross-site request forgery rule (docs/reference.md#proxying-a-request), for every method and
//! every combination of `Origin`, `Sec-Fetch-Site` and `X-CSRF` a browser or an attacker can
//! produce: a request with a session and an unsafe method passes only with same-origin proof, and a
//! refused one reaches neither the upstream nor the token endpoint.

use crate::support::{client, json_body, route};
use crate::{Stand, PRIMARY};
use reqwest::Method;
use serde_json::json;

const METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

/// A name, header lines, and whether they prove a same-origin request.
type Proof = (&'static str, &'static [(&'static str, &'static str)], bool);

/// Header sets, and whether each one proves a same-origin request. `ORIGIN` stands for the
/// gateway's public origin.
const PROOFS: [Proof; 15] = [
    ("no proof", &[], false),
    ("same Origin", &[("origin", "ORIGIN")], true),
    (
        "foreign Origin",
        &[("origin", "https://evil.example")],
        false,
    ),
    ("Origin null", &[("origin", "null")], false),
    ("other port", &[("origin", "http://127.0.0.1:1")], false),
    ("https variant", &[("origin", "https://127.0.0.1")], false),
    (
        "foreign Origin, same-origin fetch site",
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ],
        false,
    ),
    (
        "fetch site same-origin",
        &[("sec-fetch-site", "same-origin")],
        true,
    ),
    (
        "fetch site same-site",
        &[("sec-fetch-site", "same-site")],
        false,
    ),
    (
        "fetch site cross-site",
        &[("sec-fetch-site", "cross-site")],
        false,
    ),
    ("fetch site none", &[("sec-fetch-site", "none")], false),
    ("X-CSRF 1", &[("x-csrf", "1")], true),
    ("X-CSRF 0", &[("x-csrf", "0")], false),
    ("X-CSRF true", &[("x-csrf", "true")], false),
    (
        "X-CSRF 1 with a foreign Origin",
        &[("x-csrf", "1"), ("origin", "https://evil.example")],
        true,
    ),
];

fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

async fn send(
    s: &Stand,
    method: &str,
    path: &str,
    cookie: bool,
    proof: &[(&str, &str)],
) -> reqwest::Response {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client().request(method, s.gw.url(path));
    if cookie {
        req = req.header("cookie", &s.cookie);
    }
    for (k, v) in proof {
        let v = if *v == "ORIGIN" {
            s.gw.origin()
        } else {
            (*v).to_owned()
        };
        req = req.header(*k, v);
    }
    req.send().await.expect("send")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_method_and_proof_with_a_session() {
    let s = Stand::start("").await;
    let mut forwarded = 0;
    for method in METHODS {
        for (what, proof, proves) in PROOFS {
            let r = send(&s, method, "/api/x", true, proof).await;
            if is_safe(method) || proves {
                forwarded += 1;
                assert_eq!(r.status(), 200, "{method} {what}");
                assert_eq!(s.up.count(), forwarded, "{method} {what}: forwarded");
                if method != "HEAD" {
                    let body = json_body(r).await;
                    assert_eq!(body["method"], method);
                    assert_eq!(
                        body["headers"]["authorization"],
                        json!([format!("Bearer {PRIMARY}")])
                    );
                }
            } else {
                assert_eq!(r.status(), 403, "{method} {what}");
                assert_eq!(
                    json_body(r).await,
                    json!({"error": "csrf"}),
                    "{method} {what}"
                );
                assert_eq!(s.up.count(), forwarded, "{method} {what}: not forwarded");
            }
        }
    }
    let proving = PROOFS.iter().filter(|(_, _, proves)| *proves).count();
    assert_eq!(proving, 4);
    assert_eq!(forwarded, 3 * PROOFS.len() + 4 * proving);
    assert_eq!(
        s.provider.call_count(),
        0,
        "no refusal cost a token-endpoint call"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_the_rule_does_not_apply() {
    let hooks = |up: &str| route("hooks", "/hooks", up, &["auth: none", "csrf: false"]);
    let up = crate::support::EchoUpstream::start().await;
    let s = Stand::with_routes("", &[hooks(&up.url())]).await;
    let foreign = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let r = send(&s, method, "/api/x", false, &foreign).await;
        assert_eq!(
            r.status(),
            401,
            "{method}: no session on a required route is 401, not 403"
        );
        let r = send(&s, method, "/opt/x", false, &foreign).await;
        assert_eq!(
            r.status(),
            200,
            "{method} on an optional route without a session"
        );
        let r = send(&s, method, "/open/x", true, &foreign).await;
        assert_eq!(r.status(), 200, "{method} on an auth: none route");
        assert!(json_body(r).await["headers"].get("authorization").is_none());
        // A webhook route (`auth: none`, `csrf: false`) takes it; a session sent along is
        // not read, so no token goes with it.
        let r = send(&s, method, "/hooks/x", true, &foreign).await;
        assert_eq!(r.status(), 200, "{method} on a csrf: false route");
        assert!(json_body(r).await["headers"].get("authorization").is_none());
    }
    // An optional route with a session is protected like a required one.
    let r = send(&s, "POST", "/opt/x", true, &foreign).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_form_post_with_the_session_cookie_is_refused() {
    let s = Stand::start("").await;
    let r = client()
        .post(s.gw.url("/api/transfer"))
        .header("cookie", &s.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("referer", "https://evil.example/win-a-prize")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .body("amount=1000&to=attacker")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        crate::support::set_cookies(&r).is_empty(),
        "the session survives"
    );
    assert_eq!(json_body(r).await, json!({"error": "csrf"}));
    assert_eq!(s.up.count(), 0);
    assert_eq!(s.provider.call_count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_origin_fetch_with_origin_is_accepted() {
    let s = Stand::start("").await;
    let r = client()
        .post(s.gw.url("/api/orders"))
        .header("cookie", &s.cookie)
        .header("content-type", "application/json")
        .header("origin", s.gw.origin())
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "cors")
        .body(r#"{"item":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    assert_eq!(body["method"], "POST");
    assert_eq!(body["path"], "/api/orders");
    assert_eq!(
        body["headers"]["authorization"],
        json!([format!("Bearer {PRIMARY}")])
    );
    assert!(
        body["headers"].get("cookie").is_none(),
        "session cookie stripped"
    );
}
