//! Validation of single config values: one pure function per kind of value (socket address, URL,
//! upstream origin, duration, session key, cookie name, path prefix, host, scope, secret). Each
//! returns the typed value or the message for that field, with the fix where there is one; the
//! section tables name them and the walker adds the field path. Keeping them free of the tree
//! makes every rule testable on its own.

use super::model::{KeyFile, Secret, Upstream};
use crate::jwt_crypto::signing_key::SigningKey;
use crate::scope::Scope;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use http::{HeaderName, HeaderValue};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// base64url as `tokengate keygen` prints it (no padding); padded input is accepted too.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `address/prefix` (`10.0.0.0/8`, `fd00::/8`), or one address (`/32` or `/128`). Host bits
/// set under the prefix are refused: `10.1.2.3/8` is more likely a typo than a network.
pub(crate) fn cidr(value: &str) -> Result<ipnet::IpNet, String> {
    if let Ok(ip) = value.parse::<std::net::IpAddr>() {
        return Ok(ipnet::IpNet::from(ip));
    }
    let net = value.parse::<ipnet::IpNet>().map_err(|_| {
        format!(
            "{value:?} is not a CIDR; expected an address/prefix such as 10.0.0.0/8 or fd00::/8"
        )
    })?;
    if net.trunc() != net {
        return Err(format!(
            "{value:?} has host bits set under its /{}; did you mean {}?",
            net.prefix_len(),
            net.trunc()
        ));
    }
    Ok(net)
}

/// `IP:port`. Hostnames are refused: a listener binds an address, and resolving a name at bind
/// time would make the bound interface depend on DNS.
pub(crate) fn socket_addr(value: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let looks_like_host_port = value
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if looks_like_host_port {
        Err(format!(
            "{value:?} is not an IP address and port (hostnames are not allowed; \
             use e.g. 127.0.0.1:8080 or [::1]:8080)"
        ))
    } else {
        Err(format!(
            "invalid socket address {value:?} (expected IP:port, e.g. 127.0.0.1:8080)"
        ))
    }
}

/// An absolute `http`/`https` URL with a host and no credentials. Shared by `public_url` and
/// `issuer`, which add their own rules.
fn http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value)
        .map_err(|e| format!("invalid URL {value:?}: {e} (expected an absolute http(s) URL)"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("{value:?} must be an http:// or https:// URL"));
    }
    if url.host().is_none() {
        return Err(format!("{value:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // The value is not echoed: it holds a credential.
        return Err("must not contain a user name or password".to_owned());
    }
    Ok(url)
}

/// `server.public_url`: the external origin. A path would make `redirect_uri` and cookie scope
/// ambiguous, so only an empty path or `/` is allowed.
pub(crate) fn public_url(value: &str) -> Result<Url, String> {
    let url = http_url(value)?;
    if url.path() != "/" {
        return Err(format!(
            "{value:?} must be an origin without a path (got path {:?})",
            url.path()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?} must not have a query or fragment"));
    }
    Ok(url)
}

/// `provider.issuer`: discovery lives at `{issuer}/.well-known/openid-configuration`, and an
/// issuer has no query or fragment (OpenID Connect Discovery §2). Plain `http` would carry the
/// client secret and every token in clear, so it is allowed only on the loopback interface (a
/// provider on the same machine, for development and tests).
pub(crate) fn issuer(value: &str) -> Result<Url, String> {
    let url = http_url(value)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?} must not have a query or fragment"));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(format!(
            "{value:?} is plain http: the client secret and every token would cross the network \
             unencrypted; use https:// (http:// is accepted only for a loopback issuer such as \
             http://127.0.0.1:9400, for development)"
        ));
    }
    Ok(url)
}

/// True when the URL's host is this machine: `localhost` or a loopback address.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `provider.client_secret`. The gateway is a confidential client: it always authenticates at
/// the token endpoint (`client_secret_post` or `client_secret_basic`; no `client_auth` mode works
/// without a secret), so an empty one only gets `invalid_client` there, at the first login. The
/// message never contains the value.
pub(crate) fn client_secret(value: &str) -> Result<Secret, String> {
    if value.is_empty() {
        return Err(
            "must not be empty: the gateway authenticates to the token endpoint with it \
                    (a client without a secret gets invalid_client); register a confidential \
                    client and set its secret, e.g. \"${TOKENGATE_CLIENT_SECRET}\""
                .to_owned(),
        );
    }
    Ok(Secret(value.to_owned()))
}

/// `session.redis_url`. It may hold a password: the message never contains the value.
pub(crate) fn redis_url(value: &str) -> Result<Secret, String> {
    if value.starts_with("redis://") || value.starts_with("rediss://") {
        Ok(Secret(value.to_owned()))
    } else {
        Err("must start with redis:// or rediss://".to_owned())
    }
}

/// A space-separated scope (RFC 6749 §3.3). A comma is almost always a list written the wrong
/// way (`"read:a,write:a"`), which the provider would take as one unknown scope.
pub(crate) fn scope(value: &str) -> Result<Scope, String> {
    if value.contains(',') {
        let fixed: Vec<&str> = value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect();
        return Err(format!(
            "scopes are separated by spaces, not commas: write {:?} (got {value:?})",
            fixed.join(" ")
        ));
    }
    Ok(Scope::parse(value))
}

/// `provider.login.scope`: a scope that asks for `openid`, without which the provider answers
/// with no ID token and no login can complete.
pub(crate) fn login_scope(value: &str) -> Result<Scope, String> {
    let parsed = scope(value)?;
    if parsed.contains("openid") {
        Ok(parsed)
    } else {
        Err(format!("must include \"openid\" (got {value:?})"))
    }
}

/// `routes[].upstream`: an origin to dial. The request path is forwarded as is (or stripped),
/// so a path here would be silently ignored: refuse it.
pub(crate) fn upstream(value: &str) -> Result<Upstream, String> {
    let url = http_url(value)?;
    if url.path() != "/" {
        return Err(format!(
            "{value:?} must not have a path (got {:?}); the request path is forwarded as is",
            url.path()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?} must not have a query or fragment"));
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(format!("{value:?} has no host")),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("{value:?} has no port"))?;
    Ok(Upstream {
        tls: url.scheme() == "https",
        host,
        port,
    })
}

/// `500ms`, `30s`, `5m`, `12h`, `7d` (and the other forms `humantime` knows).
pub(crate) fn duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value.trim())
        .map_err(|e| format!("invalid duration {value:?}: {e} (e.g. 500ms, 30s, 5m, 12h, 7d)"))
}

/// A session key: 32 bytes of base64url. The message never contains the value.
pub(crate) fn session_key(value: &str) -> Result<[u8; 32], String> {
    let bytes = KEY_ENGINE
        .decode(value.trim())
        .map_err(|_| "must be 32 bytes of base64url (the value is not valid base64url; `tokengate keygen` prints one)".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("must be 32 bytes of base64url (got {} bytes)", bytes.len()))
}

/// A cookie name: an RFC 6265 token, without `.` because `NAME.1`, `NAME.2` are the chunks of a
/// large session.
pub(crate) fn cookie_name(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    const SEPARATORS: &str = "()<>@,;:\\\"/[]?={} \t";
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii_graphic() || SEPARATORS.contains(*c))
    {
        return Err(format!(
            "{value:?} is not a valid cookie name (character {c:?} is not allowed)"
        ));
    }
    if value.contains('.') {
        return Err(format!(
            "{value:?} must not contain '.' (NAME.1, NAME.2 ... are the chunks of a large session)"
        ));
    }
    Ok(value.to_owned())
}

/// True when the name asks browsers to accept the cookie only with `Secure` (`__Host-` and
/// `__Secure-`, matched case-insensitively as browsers do).
pub(crate) fn needs_secure_cookie(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("__host-") || lower.starts_with("__secure-")
}

/// A route's `path_prefix`, normalised: a trailing `/` removed (except for `/` itself). Requests
/// are matched on normalised paths (no dot segments, no `//`), so a prefix that has them could
/// never match, and `/auth` belongs to the gateway. A `*` is refused: it would be matched as the
/// character itself, and a prefix already covers every path below it.
pub(crate) fn path_prefix(value: &str) -> Result<String, String> {
    if !value.starts_with('/') {
        return Err(format!("{value:?} must start with '/'"));
    }
    if value.contains('*') {
        let trimmed = value.trim_end_matches(['*', '/']);
        let fix = match trimmed {
            _ if trimmed.contains('*') => {
                "routes match by prefix only, there are no wildcards".to_owned()
            }
            "" => "write \"/\"".to_owned(),
            _ => format!("write {trimmed:?}"),
        };
        return Err(format!(
            "{value:?} must not contain '*', which would be matched literally: a prefix already \
             matches every path below it, segment by segment; {fix}"
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '?' || *c == '#')
    {
        return Err(format!("{value:?} must not contain {c:?}"));
    }
    let trimmed = if value.len() > 1 {
        value.strip_suffix('/').unwrap_or(value)
    } else {
        value
    };
    if trimmed.len() > 1 {
        let bad_segment = trimmed
            .split('/')
            .skip(1)
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
        if bad_segment {
            return Err(format!(
                "{value:?} must not contain empty, '.' or '..' segments"
            ));
        }
    }
    if crate::path::is_gateway_path(trimmed) {
        return Err(format!(
            "{value:?} is under /auth or /.well-known/tokengate: that path belongs to the gateway"
        ));
    }
    Ok(trimmed.to_owned())
}

/// A route's `host`: an exact host name or IP, lowercased, without a port (the router compares
/// it with the `Host` header minus its port). IPv6 addresses keep their brackets, as in `Host`.
pub(crate) fn route_host(value: &str) -> Result<String, String> {
    if value.contains('*') {
        return Err(format!(
            "{value:?}: wildcards are not supported (host is an exact match)"
        ));
    }
    let invalid = || format!("{value:?} is not a valid host name (expected e.g. api.example.com)");
    if value.is_empty() || value.contains(['/', '@', '?', '#']) {
        return Err(invalid());
    }
    let url = Url::parse(&format!("http://{value}/")).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?;
    Ok(host.to_ascii_lowercase())
}

/// Route names appear in metrics labels and logs: keep them to a safe alphabet.
pub(crate) fn route_name(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{value:?} has the character {c:?} (allowed: A-Z a-z 0-9 _ . -)"
        ));
    }
    Ok(value.to_owned())
}

/// A claim name in `require:` or `identity_headers:`: any printable text without spaces
/// (providers namespace custom claims as URLs, `https://example.com/roles`).
pub(crate) fn claim_name(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("a claim name must not be empty".to_owned());
    }
    match value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        Some(c) => Err(format!("{value:?} is not a claim name (it has {c:?})")),
        None => Ok(value.to_owned()),
    }
}

/// An `acr` value in `require:`: it is sent back to the client as `acr_values` in the step-up
/// challenge, so it must be exact (no `*`) and safe in a quoted header parameter.
pub(crate) fn acr_value(value: &str) -> Result<(), String> {
    if value.contains('*') {
        return Err(format!(
            "{value:?}: acr values are sent to the provider as acr_values for a step-up login,              so they must be exact; '*' is not allowed here"
        ));
    }
    if crate::policy::is_acr_value(value) {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not an acr value (visible ASCII without spaces, quotes or \\, at \
             most {} characters)",
            crate::policy::MAX_ACR_VALUE_LEN
        ))
    }
}

/// Request headers the gateway itself sets or that frame the request: an `identity_headers:`
/// or `upstream_headers:` entry must not name them.
const GATEWAY_HEADERS: &[&str] = &[
    "host",
    "cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
];

/// A header name for `identity_headers:` or `upstream_headers:`, lowercased. `Authorization`
/// passes here; the route's check decides (it carries the Bearer token).
pub(crate) fn upstream_header_name(value: &str) -> Result<HeaderName, String> {
    let name = HeaderName::from_bytes(value.as_bytes())
        .map_err(|_| format!("{value:?} is not a valid header name"))?;
    if GATEWAY_HEADERS.contains(&name.as_str()) {
        return Err(format!(
            "{name} is set by the gateway (or frames the request) and cannot be configured"
        ));
    }
    if name.as_str().starts_with("x-tokengate-") {
        return Err(format!(
            "{name}: X-Tokengate-* headers belong to the gateway"
        ));
    }
    Ok(name)
}

/// An `upstream_headers:` value: visible text (no CR, LF, NUL or other control characters, so a
/// value from the environment cannot add a header). The message never quotes the value, which
/// may be a secret.
pub(crate) fn header_value(value: &str) -> Result<HeaderValue, String> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err("must not contain control characters (CR, LF, NUL, ...)".to_owned());
    }
    HeaderValue::from_str(value.trim()).map_err(|_| "is not a valid header value".to_owned())
}

/// `server.assertion_key`: a path to a PEM P-256 private key, read and checked now (a reload
/// reads it again).
pub(crate) fn assertion_key(value: &str) -> Result<KeyFile, String> {
    let path = std::path::PathBuf::from(value);
    let pem = std::fs::read(&path).map_err(|e| format!("cannot read {value:?}: {e}"))?;
    let key = SigningKey::from_pem(&pem).map_err(|e| format!("{value:?} {e}"))?;
    Ok(KeyFile {
        path,
        key: Arc::new(key),
    })
}

#[cfg(test)]
mod tests;
