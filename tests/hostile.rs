//! Hostile input at the edge, against the real gateway binary: the limits of `limits:` (sizes,
//! chunk count, timeouts), HTTP/1.1 framing and `Host` rules (RFC 9112), path and `returnTo`
//! tricks, the CSRF rule (docs/reference.md#proxying-a-request) for every method and header
//! combination, a thousand mutated cookies and a thousand random paths, and the fuzz targets'
//! checks run as bounded property tests (the same code `cargo fuzz` runs, from `fuzz/src/lib.rs`).
//!
//! Each area is its own file under `tests/hostile/`; this file holds the test stand they share.

mod support;

#[path = "../fuzz/src/lib.rs"]
mod fuzz_entry;

#[path = "hostile/client_headers.rs"]
mod client_headers;
#[path = "hostile/csrf.rs"]
mod csrf;
#[path = "hostile/edge.rs"]
mod edge;
#[path = "hostile/framing.rs"]
mod framing;
#[path = "hostile/limits.rs"]
mod limits;
#[path = "hostile/logout.rs"]
mod logout;
#[path = "hostile/mutations.rs"]
mod mutations;
#[path = "hostile/properties.rs"]
mod properties;
#[path = "hostile/wire.rs"]
mod wire;

use support::{config, cookie_for, route, session_for, EchoUpstream, Gateway, MockProvider};

/// The primary access token of the stand's session; a request that reached the upstream with
/// the session carries `Bearer` + this.
pub const PRIMARY: &str = "primary-token-hostile";

/// A gateway with three routes to one echo upstream: `/api` (`auth: required`, served from the
/// session's cached primary token, so the provider is never called), `/opt` (`auth: optional`)
/// and `/open` (`auth: none`); anything else is `404`.
pub struct Stand {
    pub provider: MockProvider,
    pub up: EchoUpstream,
    pub gw: Gateway,
    /// The `Cookie` header value of a valid session.
    pub cookie: String,
}

impl Stand {
    /// The stand with `limits` (a `limits:` section, or empty for the defaults).
    pub async fn start(limits: &str) -> Stand {
        Self::with_routes(limits, &[]).await
    }

    /// The stand plus `extra` routes (already formatted with `support::route`).
    pub async fn with_routes(limits: &str, extra: &[String]) -> Stand {
        Self::with_server_lines(limits, extra, &[]).await
    }

    /// The stand plus `extra` routes and `server` lines (`key: value`, without indentation).
    pub async fn with_server_lines(limits: &str, extra: &[String], server: &[&str]) -> Stand {
        let provider = MockProvider::start().await;
        let up = EchoUpstream::start().await;
        let mut routes = route("api", "/api", &up.url(), &[])
            + &route("opt", "/opt", &up.url(), &["auth: optional"])
            + &route("open", "/open", &up.url(), &["auth: none"]);
        for r in extra {
            routes.push_str(r);
        }
        let server: String = server.iter().map(|l| format!("  {l}\n")).collect();
        let base =
            config(&provider, &routes).replacen("server:\n", &format!("server:\n{server}"), 1);
        // Small cookie limits hold no cached token sets (`tokengate check` refuses more).
        let base = if limits.contains("max_cookie_") {
            base.replacen("  max_cached: 4\n", "  max_cached: 0\n", 1)
        } else {
            base
        };
        let yaml = format!("{base}\n{limits}");
        let gw = Gateway::start(&yaml);
        let cookie = cookie_for(&session_for(&provider.mint_refresh_token(), PRIMARY));
        Stand {
            provider,
            up,
            gw,
            cookie,
        }
    }

    pub fn port(&self) -> u16 {
        self.gw.port()
    }

    /// `GET <target>` over raw TCP with `Connection: close` and `extra` header lines.
    pub async fn raw_get(&self, target: &str, extra: &[(&str, &str)]) -> support::raw::RawResponse {
        support::raw::get(self.port(), target, extra).await
    }
}
