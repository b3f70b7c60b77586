//! Trace context (docs/reference.md#trace-context): the client's W3C `traceparent` continued to
//! the upstream and to the token endpoint with the gateway's own span ids, a malformed one
//! replaced by a new trace, and `tracestate` kept only within its bounds.

mod support;

use support::scenario::*;
use support::*;

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// `(trace id, span id, flags)` of a well-formed version-00 `traceparent`; panics otherwise.
fn parts(tp: &str) -> (String, String, String) {
    let p: Vec<&str> = tp.split('-').collect();
    assert_eq!(p.len(), 4, "{tp}");
    assert_eq!(p[0], "00", "{tp}");
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    assert!(hex(p[1], 32) && p[1] != "0".repeat(32), "{tp}");
    assert!(hex(p[2], 16) && p[2] != "0".repeat(16), "{tp}");
    assert!(hex(p[3], 2), "{tp}");
    (p[1].to_owned(), p[2].to_owned(), p[3].to_owned())
}

/// The one value of `name` the upstream received, if any (panics on several).
fn upstream_header(body: &serde_json::Value, name: &str) -> Option<String> {
    let values = body["headers"][name].as_array()?;
    assert_eq!(values.len(), 1, "{name}: {values:?}");
    Some(values[0].as_str().unwrap().to_owned())
}

async fn get_with(ctx: &Ctx, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = client().get(ctx.gw.url(path)).header("cookie", &ctx.cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clients_trace_reaches_upstream_and_token_endpoint_with_new_spans() {
    let ctx = setup().await;
    let tp = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let r = get_with(
        &ctx,
        "/api/orders",
        &[
            ("traceparent", &tp),
            ("tracestate", "rojo=00f067aa0ba902b7"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = json_body(r).await;
    let sent = upstream_header(&body, "traceparent").expect("upstream got a traceparent");
    let (trace, gateway_span, flags) = parts(&sent);
    assert_eq!(trace, CLIENT_TRACE);
    assert_ne!(
        gateway_span, CLIENT_SPAN,
        "the gateway's span, not the client's"
    );
    assert_eq!(flags, "01");
    assert_eq!(
        upstream_header(&body, "tracestate").as_deref(),
        Some("rojo=00f067aa0ba902b7")
    );

    let calls = ctx.provider.calls();
    assert_eq!(calls.len(), 1);
    let token_tp = calls[0].traceparent.as_deref().expect("token call traced");
    let (token_trace, token_span, _) = parts(token_tp);
    assert_eq!(token_trace, CLIENT_TRACE);
    assert_ne!(token_span, CLIENT_SPAN);
    assert_ne!(token_span, gateway_span, "a child span of the request's");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_traceparent_is_replaced_by_a_new_trace() {
    let ctx = setup().await;
    for bad in [
        format!("00-{}-{CLIENT_SPAN}-01", CLIENT_TRACE.to_uppercase()),
        format!("00-{}-{CLIENT_SPAN}-01", "0".repeat(32)),
        format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}"),
        "garbage".to_owned(),
    ] {
        let r = get_with(
            &ctx,
            "/api/me",
            &[("traceparent", &bad), ("tracestate", "rojo=1")],
        )
        .await;
        assert_eq!(r.status(), 200, "{bad}: tracing never refuses a request");
        let body = json_body(r).await;
        let sent = upstream_header(&body, "traceparent").expect("a new traceparent");
        let (trace, _, flags) = parts(&sent);
        assert_ne!(trace, CLIENT_TRACE.to_uppercase().to_lowercase(), "{bad}");
        assert_eq!(flags, "01", "a new trace is sampled");
        assert_eq!(upstream_header(&body, "tracestate"), None, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_trace_context_starts_one_and_oversized_tracestate_is_dropped() {
    let ctx = setup().await;
    let r = get_with(&ctx, "/api/me", &[]).await;
    let first = upstream_header(&json_body(r).await, "traceparent").expect("started");
    let r = get_with(&ctx, "/api/me", &[]).await;
    let second = upstream_header(&json_body(r).await, "traceparent").expect("started");
    assert_ne!(parts(&first).0, parts(&second).0, "one trace per request");

    let tp = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-00");
    let big: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
    let r = get_with(
        &ctx,
        "/api/me",
        &[("traceparent", &tp), ("tracestate", &big.join(","))],
    )
    .await;
    let body = json_body(r).await;
    let (trace, _, flags) = parts(&upstream_header(&body, "traceparent").unwrap());
    assert_eq!(trace, CLIENT_TRACE);
    assert_eq!(flags, "00", "the client's sampling decision stands");
    assert_eq!(upstream_header(&body, "tracestate"), None);
}
