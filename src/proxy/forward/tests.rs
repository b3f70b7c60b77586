use super::*;

fn request(cookies: &[&[u8]]) -> RequestHeader {
    let mut req = RequestHeader::build("GET", b"/", None).expect("a valid request line");
    for c in cookies {
        let value = http::HeaderValue::from_bytes(c).expect("a valid header value");
        req.append_header("cookie", value).expect("appendable");
    }
    req
}

fn cookie_headers(req: &RequestHeader) -> Vec<Vec<u8>> {
    req.headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

#[test]
fn session_chunks_and_login_transactions_are_removed_others_kept_in_order() {
    let mut req = request(&[
        b"a=1; tokengate=sealed; tokengate.1=more; tokengate-tx.st4te=tx; tokengatex=3; b=2",
    ]);
    strip_session_cookies(&mut req, "tokengate").expect("stripped");
    assert_eq!(
        cookie_headers(&req),
        vec![b"a=1; tokengatex=3; b=2".to_vec()]
    );
}

fn upstream(target: &str) -> UpstreamRequest {
    UpstreamRequest {
        target: target.to_owned(),
        authority: "api.internal:8080".to_owned(),
        client_ip: None,
        proto: "https",
        original_host: None,
        headers: Vec::new(),
        traceparent: None,
        tracestate: None,
    }
}

static NO_STRIPPED: std::sync::LazyLock<StrippedHeaders> =
    std::sync::LazyLock::new(StrippedHeaders::default);
static NO_CLIENT_HEADERS: ClientHeaders = ClientHeaders {
    remove: Vec::new(),
    forwarded_for: None,
    trusted: false,
};

fn forward(upstream: &UpstreamRequest) -> Forward<'_> {
    Forward {
        upstream,
        bearer: Some("tok"),
        session_cookie: "tokengate",
        stripped: &NO_STRIPPED,
        client: &NO_CLIENT_HEADERS,
    }
}

/// Client identity headers go, whatever their case; the gateway's own replace them; a static
/// `Authorization` (auth: none) survives the Bearer handling.
#[test]
fn identity_headers_of_the_client_are_replaced_by_the_gateways() {
    let stripped = StrippedHeaders::new([http::HeaderName::from_static("x-user")]);
    let mut req = request(&[]);
    for (name, value) in [
        ("X-User", "mallory"),
        ("x-user", "eve"),
        ("X-Tokengate-Assertion", "forged"),
        ("X-Other", "kept"),
    ] {
        req.append_header(name, value).expect("appendable");
    }
    let mut up = upstream("/x");
    up.headers = vec![(
        http::HeaderName::from_static("x-user"),
        http::HeaderValue::from_static("alice"),
    )];
    let f = Forward {
        stripped: &stripped,
        ..forward(&up)
    };
    apply(&mut req, &f).expect("applies");
    let users: Vec<_> = req.headers.get_all("x-user").iter().collect();
    assert_eq!(users, ["alice"]);
    assert!(req.headers.get("x-tokengate-assertion").is_none());
    assert_eq!(req.headers["x-other"], "kept");

    let mut req = request(&[]);
    req.append_header("Authorization", "Bearer client")
        .expect("appendable");
    up.headers = vec![(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static("Basic c3RhdGlj"),
    )];
    let f = Forward {
        bearer: None,
        ..forward(&up)
    };
    apply(&mut req, &f).expect("applies");
    assert_eq!(req.headers["authorization"], "Basic c3RhdGlj");
}

#[test]
fn the_upstream_gets_the_decided_target_or_nothing() {
    let mut req = request(&[]);
    apply(&mut req, &forward(&upstream("/orders/1?a=b"))).expect("a valid target");
    assert_eq!(req.uri, "/orders/1?a=b");
    assert_eq!(req.headers["authorization"], "Bearer tok");

    // Never the client's URI unchanged: that would skip strip_prefix and normalisation.
    let mut req = request(&[]);
    let e = apply(&mut req, &forward(&upstream("/a b"))).expect_err("not a URI");
    assert_eq!(e.etype(), &pingora::ErrorType::HTTPStatus(400));
}

#[test]
fn a_header_left_empty_is_dropped_and_the_other_headers_stay() {
    let mut req = request(&[b"tokengate=sealed; tokengate.2=x", b"theme=dark"]);
    strip_session_cookies(&mut req, "tokengate").expect("stripped");
    assert_eq!(cookie_headers(&req), vec![b"theme=dark".to_vec()]);
}

#[test]
fn a_request_without_cookies_is_left_alone() {
    let mut req = request(&[]);
    strip_session_cookies(&mut req, "tokengate").expect("nothing to do");
    assert!(cookie_headers(&req).is_empty());
}

#[test]
fn bytes_that_are_not_utf8_become_replacement_characters() {
    let mut req = request(&[b"a=\xff\xfe; tokengate=sealed"]);
    strip_session_cookies(&mut req, "tokengate").expect("stripped");
    assert_eq!(
        cookie_headers(&req),
        vec!["a=\u{FFFD}\u{FFFD}".as_bytes().to_vec()]
    );
}

/// The client's trace headers never reach the upstream as sent: the gateway's replace them, and
/// a `tracestate` the gateway dropped is gone.
#[test]
fn the_clients_trace_headers_are_replaced() {
    let mut req = request(&[]);
    req.append_header(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    .expect("appendable");
    req.append_header("tracestate", "big=1")
        .expect("appendable");
    let mut up = upstream("/x");
    let ours = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
    up.traceparent = Some(http::HeaderValue::from_static(ours));
    apply(&mut req, &forward(&up)).expect("applied");
    let values: Vec<_> = req.headers.get_all("traceparent").iter().collect();
    assert_eq!(values, vec![ours]);
    assert!(req.headers.get("tracestate").is_none());
}
