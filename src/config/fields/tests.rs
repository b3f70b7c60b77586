//! Unit tests of the single-value validators in `fields.rs`.

use super::*;

fn err<T: std::fmt::Debug>(r: Result<T, String>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn socket_addr_accepts_ipv4_and_ipv6() {
    assert_eq!(
        socket_addr("127.0.0.1:8080").unwrap(),
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(socket_addr("[::1]:9901").unwrap().port(), 9901);
}

#[test]
fn socket_addr_refuses_hostnames_and_says_so() {
    let e = err(socket_addr("localhost:8080"));
    assert!(e.contains("hostnames are not allowed"), "{e}");
    let e = err(socket_addr("8080"));
    assert!(e.contains("invalid socket address \"8080\""), "{e}");
    let e = err(socket_addr("127.0.0.1:99999"));
    assert!(e.contains("invalid socket address"), "{e}");
}

#[test]
fn public_url_is_an_origin() {
    assert_eq!(
        public_url("https://app.example.com").unwrap().as_str(),
        "https://app.example.com/"
    );
    assert_eq!(
        public_url("http://127.0.0.1:8080/").unwrap().as_str(),
        "http://127.0.0.1:8080/"
    );
    assert!(err(public_url("https://app.example.com/app")).contains("without a path"));
    assert!(err(public_url("https://app.example.com/?a=1")).contains("query or fragment"));
    assert!(err(public_url("https://app.example.com/#x")).contains("query or fragment"));
    assert!(err(public_url("ftp://app.example.com")).contains("http:// or https://"));
    assert!(err(public_url("app.example.com")).contains("invalid URL"));
}

#[test]
fn credentials_in_urls_are_refused_without_echo() {
    let e = err(public_url("https://user:hunter2@app.example.com"));
    assert!(e.contains("user name or password"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
    let e = err(upstream("http://u:hunter2@10.0.0.1"));
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn issuer_allows_a_path() {
    let url = issuer("https://login.example.com/tenant/v2.0").unwrap();
    assert_eq!(url.path(), "/tenant/v2.0");
    assert!(err(issuer("https://login.example.com/?x=1")).contains("query"));
    assert!(err(issuer("mailto:a@b.c")).contains("http:// or https://"));
}

#[test]
fn upstream_defaults_ports_by_scheme() {
    assert_eq!(
        upstream("http://127.0.0.1:9101").unwrap(),
        Upstream {
            tls: false,
            host: "127.0.0.1".into(),
            port: 9101
        }
    );
    assert_eq!(
        upstream("https://Orders.Internal/").unwrap(),
        Upstream {
            tls: true,
            host: "orders.internal".into(),
            port: 443
        }
    );
    assert_eq!(upstream("http://svc").unwrap().port, 80);
}

#[test]
fn upstream_ipv6_host_has_no_brackets() {
    let up = upstream("http://[::1]:9000").unwrap();
    assert_eq!(up.host, "::1");
    assert_eq!(up.address(), "[::1]:9000");
}

#[test]
fn upstream_refuses_paths_queries_and_other_schemes() {
    assert!(err(upstream("http://svc/api")).contains("must not have a path"));
    assert!(err(upstream("http://svc/?q")).contains("query or fragment"));
    assert!(err(upstream("ws://svc")).contains("http:// or https://"));
    assert!(err(upstream("svc:80")).contains("http:// or https://"));
    assert!(err(upstream("127.0.0.1:80")).contains("invalid URL"));
}

#[test]
fn durations() {
    assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
    assert_eq!(duration("30s").unwrap(), Duration::from_secs(30));
    assert_eq!(duration("5m").unwrap(), Duration::from_secs(300));
    assert_eq!(duration("12h").unwrap(), Duration::from_secs(12 * 3600));
    assert_eq!(duration("7d").unwrap(), Duration::from_secs(7 * 86400));
    let e = err(duration("5 parsecs"));
    assert!(e.starts_with("invalid duration \"5 parsecs\": "), "{e}");
    let e = err(duration("60"));
    assert!(e.starts_with("invalid duration \"60\": "), "{e}");
}

#[test]
fn session_keys_are_32_bytes_of_base64url() {
    let key = [7u8; 32];
    let unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
    let padded = base64::engine::general_purpose::URL_SAFE.encode(key);
    assert_eq!(session_key(&unpadded).unwrap(), key);
    assert_eq!(session_key(&padded).unwrap(), key);
    let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([1u8; 16]);
    assert_eq!(
        err(session_key(&short)),
        "must be 32 bytes of base64url (got 16 bytes)"
    );
}

#[test]
fn session_key_errors_never_echo_the_value() {
    let bad = "not+base64/with-secret-material!!";
    let e = err(session_key(bad));
    assert!(e.contains("not valid base64url"), "{e}");
    assert!(!e.contains("secret-material"), "{e}");
    // Standard base64 ('+', '/') is not base64url.
    let std_b64 = base64::engine::general_purpose::STANDARD.encode([0xfbu8; 32]);
    assert!(err(session_key(&std_b64)).contains("not valid base64url"));
}

#[test]
fn cookie_names() {
    assert!(cookie_name("tokengate").is_ok());
    assert!(cookie_name("__Host-tokengate").is_ok());
    assert!(err(cookie_name("")).contains("must not be empty"));
    assert!(err(cookie_name("a b")).contains("' '"));
    assert!(err(cookie_name("a;b")).contains("';'"));
    assert!(err(cookie_name("a=b")).contains("'='"));
    assert!(err(cookie_name("tg.session")).contains("must not contain '.'"));
    assert!(err(cookie_name("café")).contains("not a valid cookie name"));
}

#[test]
fn secure_cookie_prefixes() {
    assert!(needs_secure_cookie("__Host-x"));
    assert!(needs_secure_cookie("__host-x"));
    assert!(needs_secure_cookie("__Secure-x"));
    assert!(!needs_secure_cookie("tokengate"));
}

#[test]
fn path_prefix_normalises_the_trailing_slash() {
    assert_eq!(path_prefix("/api/orders/").unwrap(), "/api/orders");
    assert_eq!(path_prefix("/api/orders").unwrap(), "/api/orders");
    assert_eq!(path_prefix("/").unwrap(), "/");
    assert_eq!(path_prefix("/authx").unwrap(), "/authx");
}

#[test]
fn path_prefix_errors() {
    assert!(err(path_prefix("api")).contains("must start with '/'"));
    assert!(err(path_prefix("")).contains("must start with '/'"));
    assert!(err(path_prefix("/auth")).contains("belongs to the gateway"));
    assert!(err(path_prefix("/auth/")).contains("belongs to the gateway"));
    assert!(err(path_prefix("/auth/x")).contains("belongs to the gateway"));
    assert!(err(path_prefix("/a//b")).contains("segments"));
    assert!(err(path_prefix("/a/../b")).contains("segments"));
    assert!(err(path_prefix("/a/.")).contains("segments"));
    assert!(err(path_prefix("/a?b")).contains("'?'"));
    assert!(err(path_prefix("/a b")).contains("' '"));
}

#[test]
fn route_hosts_are_lowercased_without_port() {
    assert_eq!(route_host("API.Example.com").unwrap(), "api.example.com");
    assert_eq!(
        route_host("api.example.com:8443").unwrap(),
        "api.example.com"
    );
    assert_eq!(route_host("10.0.0.1").unwrap(), "10.0.0.1");
    assert_eq!(route_host("[::1]").unwrap(), "[::1]");
    assert!(err(route_host("*.example.com")).contains("wildcards"));
    assert!(err(route_host("https://a.example.com")).contains("not a valid host"));
    assert!(err(route_host("a.example.com/x")).contains("not a valid host"));
    assert!(err(route_host("")).contains("not a valid host"));
}

#[test]
fn route_names() {
    assert!(route_name("orders-v2.api_1").is_ok());
    assert!(err(route_name("")).contains("must not be empty"));
    assert!(err(route_name("orders api")).contains("' '"));
    assert!(err(route_name("ordérs")).contains("'é'"));
}
