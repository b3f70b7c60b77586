use super::*;
use http::HeaderValue;

fn headers(fields: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in fields {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).expect("a header name"),
            HeaderValue::from_str(v).expect("a header value"),
        );
    }
    map
}

fn peer() -> Option<IpAddr> {
    Some(IpAddr::from([203, 0, 113, 7]))
}

fn removed(decision: &ClientHeaders) -> Vec<&str> {
    let mut names: Vec<&str> = decision.remove.iter().map(HeaderName::as_str).collect();
    names.sort_unstable();
    names
}

#[test]
fn identity_headers_are_the_fixed_list_the_prefixes_and_the_configured_names() {
    let identity = IdentityHeaders::new(["X-User-Id"]);
    for name in [
        "X-Forwarded-User",
        "x-forwarded-email",
        "X-Forwarded-Groups",
        "X-Forwarded-Preferred-Username",
        "X-Forwarded-Access-Token",
        "X-Auth-Request-User",
        "x-auth-request-anything",
        "X-Id-Token",
        "Remote-User",
        "X-Remote-User",
        "X-Tokengate-Assertion",
        "x-user-id",
    ] {
        assert!(identity.contains(name), "{name}");
    }
    for name in [
        "x-forwarded-proto",
        "x-user",
        "user",
        "x-auth-request",
        "accept",
    ] {
        assert!(!identity.contains(name), "{name}");
    }
}

#[test]
fn from_anyone_identity_and_forwarding_headers_go_and_x_forwarded_for_is_the_peer() {
    let h = headers(&[
        ("x-forwarded-user", "admin"),
        ("remote-user", "admin"),
        ("x-auth-request-email", "a@b"),
        ("x-forwarded-for", "1.2.3.4"),
        ("forwarded", "for=1.2.3.4"),
        ("x-real-ip", "1.2.3.4"),
        ("true-client-ip", "1.2.3.4"),
        ("x-client-ip", "1.2.3.4"),
        ("x-forwarded-proto", "https"),
        ("accept", "*/*"),
    ]);
    let d = decide(&h, peer(), false, &IdentityHeaders::new([]));
    assert_eq!(
        removed(&d),
        [
            "forwarded",
            "remote-user",
            "true-client-ip",
            "x-auth-request-email",
            "x-client-ip",
            "x-forwarded-for",
            "x-forwarded-user",
            "x-real-ip",
        ]
    );
    assert_eq!(d.forwarded_for.as_deref(), Some("203.0.113.7"));
    assert!(!d.trusted);
}

#[test]
fn from_a_trusted_proxy_forwarding_headers_stay_and_the_peer_is_appended() {
    let h = headers(&[
        ("x-forwarded-user", "admin"),
        ("x-forwarded-for", "1.2.3.4"),
        ("X-Forwarded-For", "5.6.7.8 "),
        ("forwarded", "for=1.2.3.4"),
        ("x-real-ip", "1.2.3.4"),
    ]);
    let d = decide(&h, peer(), true, &IdentityHeaders::new([]));
    assert_eq!(removed(&d), ["x-forwarded-user"], "identity goes even so");
    assert_eq!(
        d.forwarded_for.as_deref(),
        Some("1.2.3.4, 5.6.7.8, 203.0.113.7")
    );
    let none = decide(&headers(&[]), peer(), true, &IdentityHeaders::new([]));
    assert_eq!(none.forwarded_for.as_deref(), Some("203.0.113.7"));
}

#[test]
fn trust_is_by_cidr_and_an_ipv4_mapped_peer_is_its_ipv4_address() {
    let nets: Vec<ipnet::IpNet> = ["10.0.0.0/8", "fd00::/8"]
        .iter()
        .map(|n| n.parse().expect("a CIDR"))
        .collect();
    for (ip, trusted) in [
        ("10.1.2.3", true),
        ("11.0.0.1", false),
        ("::ffff:10.0.0.1", true),
        ("fd12::1", true),
        ("fe80::1", false),
    ] {
        let ip: IpAddr = ip.parse().expect("an address");
        assert_eq!(is_trusted(ip, &nets), trusted, "{ip}");
    }
    assert!(!is_trusted("10.0.0.1".parse().expect("an address"), &[]));
}

#[test]
fn connection_may_not_nominate_a_header_the_gateway_sets_or_removes() {
    let identity = IdentityHeaders::new(["X-User-Id"]);
    for value in [
        "close, x-forwarded-for",
        "X-Forwarded-Proto",
        "keep-alive,authorization",
        "close, Cookie",
        "x-forwarded-host",
        "host",
        "x-real-ip",
        "forwarded",
        "x-user-id",
        "x-tokengate-assertion",
    ] {
        let h = headers(&[("connection", value)]);
        assert!(nominates_gateway_header(&h, &identity), "{value}");
    }
    for value in ["close", "keep-alive", "Upgrade", "close, x-custom"] {
        let h = headers(&[("connection", value)]);
        assert!(!nominates_gateway_header(&h, &identity), "{value}");
    }
    let two = headers(&[("connection", "close"), ("connection", "x-forwarded-for")]);
    assert!(nominates_gateway_header(&two, &identity), "any field");
}
