//! The session cookie through nginx with ingress-nginx's buffer settings: the controller's
//! defaults break it, and the sizes in `deploy/kubernetes/ingress/` carry the largest session
//! the gateway writes, in both directions, over HTTP/1.1 and HTTP/2.
//!
//! A real nginx (Debian's `nginx`, installed by `scripts/setup.sh`) runs on loopback with the
//! directives ingress-nginx renders from its ConfigMap and annotations
//! (`client-header-buffer-size` → `client_header_buffer_size` and `large-client-header-buffers`
//! → `large_client_header_buffers` at `http` level; `proxy-buffer-size` → `proxy_buffer_size`
//! and `proxy_buffers <proxy-buffers-number> <proxy-buffer-size>` per location, with
//! `proxy_buffering off`), in front of the real gateway. HTTP/2 is spoken in clear text with
//! prior knowledge (curl): nginx applies the same header limits as behind TLS.

use crate::support::gateway::blocking;
use crate::support::raw::{self, RawResponse};
use crate::support::{
    cookie_for, free_port, open_set_cookies, route, session_for, token_set, ConfigBuilder,
    EchoUpstream, Gateway, MockProvider, COOKIE,
};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokengate::session::model::{now, Session};

/// nginx's buffer directives, as ingress-nginx sets them.
struct Buffers {
    client_header_buffer_size: &'static str,
    large_client_header_buffers: &'static str,
    proxy_buffer_size: &'static str,
}

/// ingress-nginx's defaults (its `config.go`: `ClientHeaderBufferSize: "1k"`,
/// `LargeClientHeaderBuffers: "4 8k"`, `ProxyBufferSize: "4k"`, `ProxyBuffersNumber: 4`).
const DEFAULTS: Buffers = Buffers {
    client_header_buffer_size: "1k",
    large_client_header_buffers: "4 8k",
    proxy_buffer_size: "4k",
};

/// What `deploy/kubernetes/ingress/` sets (the test reads the files to make sure).
const DOCUMENTED: Buffers = Buffers {
    client_header_buffer_size: "1k",
    large_client_header_buffers: "4 96k",
    proxy_buffer_size: "96k",
};

/// An nginx of our own on loopback: its own prefix, config, logs and temp paths in a
/// temporary directory, one process (`master_process off`), stopped by PID on drop.
struct Nginx {
    child: Child,
    port: u16,
    h2_port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstream_port: u16, b: &Buffers) -> Nginx {
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, h2_port) = (free_port(), free_port());
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             access_log off;\nclient_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             client_header_buffer_size {chb};\nlarge_client_header_buffers {lchb};\n\
             server {{\nlisten 127.0.0.1:{port};\nlisten 127.0.0.1:{h2_port} http2;\n\
             location / {{\nproxy_pass http://127.0.0.1:{upstream_port};\n\
             proxy_http_version 1.1;\nproxy_set_header Host $http_host;\n\
             proxy_set_header Connection \"\";\nproxy_buffering off;\n\
             proxy_buffer_size {pbs};\nproxy_buffers 4 {pbs};\n}}\n}}\n}}\n",
            chb = b.client_header_buffer_size,
            lchb = b.large_client_header_buffers,
            pbs = b.proxy_buffer_size,
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx {
            child,
            port,
            h2_port,
            dir,
        };
        nginx.wait_listening();
        nginx
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.port, self.h2_port] {
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "nginx did not listen; error.log:\n{}",
                    self.error_log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is not installed: run scripts/setup.sh (apt-get install nginx)")
}

/// A session whose sealed cookie is `chunks` chunks long and nearly fills the last one, so
/// that it is the largest session of that many chunks the gateway writes. `stale`: its
/// primary token has expired, so a request refreshes it and the answer rewrites every chunk.
fn session_of(provider: &MockProvider, chunks: usize, stale: bool) -> Session {
    let mut s = session_for(&provider.mint_refresh_token(), "primary-token");
    if stale {
        if let Some(p) = s.primary.as_mut() {
            p.expires_at = now().saturating_sub(10);
        }
    }
    // Leave room for the provider's new tokens (a JWT is longer than "primary-token").
    // Sealing is linear in a token's length (base64 of the plaintext, 4 bytes per 3), so each
    // token is sized from the room left and trimmed once by the measured overshoot.
    let target = chunks * 4000 - 600;
    let mut k = 0;
    loop {
        let current = sealed_len(&s);
        if current + 200 >= target {
            break;
        }
        let len = ((target - current) * 3 / 4).min(12_000);
        s.extra.push(token_set(
            Some(&format!("https://api{k}.example")),
            "",
            &"t".repeat(len),
            now() + 3600,
        ));
        let over = sealed_len(&s).saturating_sub(target);
        if over > 0 {
            let last = s.extra.last_mut().expect("the token just added");
            let keep = last.access_token.len().saturating_sub(over * 3 / 4 + 8);
            last.access_token.truncate(keep.max(1));
        }
        k += 1;
    }
    assert_eq!(chunk_count(&cookie_for(&s)), chunks);
    s
}

/// How many `NAME=value` pairs a `Cookie` header value has.
fn chunk_count(cookie: &str) -> usize {
    cookie.split("; ").count()
}

/// The length of the sealed value (all chunks together).
fn sealed_len(s: &Session) -> usize {
    cookie_for(s)
        .split("; ")
        .filter_map(|p| p.split_once('=').map(|(_, v)| v.len()))
        .sum()
}

/// `GET /api/x` over HTTP/1.1 with one `Cookie` header, as browsers send it over HTTP/1.1.
async fn h1(port: u16, cookie: &str) -> RawResponse {
    raw::get(port, "/api/x", &[("Cookie", cookie)]).await
}

/// `GET /api/x` over HTTP/2 with one `cookie` field per cookie, as browsers send it over
/// HTTP/2 (RFC 9113, section 8.2.3); the HTTP status, or 0 when the connection failed.
fn h2(port: u16, cookie: &str) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "20",
    ])
    .arg("--http2-prior-knowledge");
    for crumb in cookie.split("; ") {
        cmd.arg("-H").arg(format!("cookie: {crumb}"));
    }
    cmd.arg(format!("http://127.0.0.1:{port}/api/x"));
    let out = blocking(|| cmd.output()).expect("curl (apt-get install curl)");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn set_cookies(r: &RawResponse) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect()
}

/// The sizes the test uses must be the ones the manifests ship.
#[test]
fn the_manifests_set_the_tested_sizes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/ingress");
    let ingress = std::fs::read_to_string(root.join("ingress.yaml")).expect("ingress.yaml");
    let controller = std::fs::read_to_string(root.join("ingress-nginx-controller.yaml"))
        .expect("ingress-nginx-controller.yaml");
    assert!(ingress.contains(&format!(
        "nginx.ingress.kubernetes.io/proxy-buffer-size: \"{}\"",
        DOCUMENTED.proxy_buffer_size
    )));
    assert!(controller.contains(&format!(
        "large-client-header-buffers: \"{}\"",
        DOCUMENTED.large_client_header_buffers
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_nginx_defaults_break_the_session_and_the_documented_sizes_carry_it() {
    let provider = MockProvider::start().await;
    let up = EchoUpstream::start().await;
    let yaml = ConfigBuilder::new(&provider, &route("api", "/api", &up.url(), &[]))
        .max_cached(16)
        .build();
    let gw = Gateway::start(&yaml);

    // The largest session the gateway writes: 16 chunks (limits.max_cookie_chunks).
    let full = cookie_for(&session_of(&provider, 16, false));
    eprintln!(
        "Cookie header of a 16-chunk session: {} bytes (name {COOKIE:?})",
        full.len()
    );

    let defaults = Nginx::start(gw.port(), &DEFAULTS);
    // Responses: two chunks of Set-Cookie are over proxy_buffer_size 4k.
    let two = cookie_for(&session_of(&provider, 2, true));
    let r = h1(defaults.port, &two).await;
    assert_eq!(
        r.status, 502,
        "defaults, Set-Cookie of 2 chunks: {:?}",
        r.headers
    );
    assert!(
        defaults
            .error_log()
            .contains("upstream sent too big header"),
        "{}",
        defaults.error_log()
    );
    // Requests: a Cookie header line longer than one 8k buffer.
    let r = h1(defaults.port, &full).await;
    assert_eq!(r.status, 400, "defaults, HTTP/1.1 Cookie of 16 chunks");
    assert_eq!(
        h2(defaults.h2_port, &full),
        0,
        "defaults, HTTP/2: no answer at all"
    );
    assert!(
        defaults
            .error_log()
            .contains("client sent too large header while processing HTTP/2"),
        "the HTTP/2 connection is closed for the size of its header list"
    );
    drop(defaults);

    let documented = Nginx::start(gw.port(), &DOCUMENTED);
    let r = h1(documented.port, &full).await;
    assert_eq!(r.status, 200, "documented, HTTP/1.1 Cookie of 16 chunks");
    assert_eq!(
        r.json()["headers"]["authorization"][0],
        "Bearer primary-token",
        "the upstream got the session's token"
    );
    assert_eq!(h2(documented.h2_port, &full), 200, "documented, HTTP/2");

    // The largest Set-Cookie: a refresh rewrites all 16 chunks.
    let stale = session_of(&provider, 16, true);
    let r = h1(documented.port, &cookie_for(&stale)).await;
    assert_eq!(r.status, 200, "documented, Set-Cookie of 16 chunks");
    let set = set_cookies(&r);
    let bytes: usize = set.iter().map(|v| "Set-Cookie: \r\n".len() + v.len()).sum();
    eprintln!(
        "Set-Cookie of a refreshed 16-chunk session: {} headers, {bytes} bytes",
        set.len()
    );
    assert_eq!(set.len(), 16, "{set:?}");
    let bearer = r.json()["headers"]["authorization"][0]
        .as_str()
        .and_then(|b| b.strip_prefix("Bearer "))
        .map(str::to_owned)
        .expect("the upstream got a Bearer token");
    assert_ne!(
        bearer, "primary-token",
        "a fresh token, not the expired one"
    );
    let written = open_set_cookies(&set).expect("the rewritten session opens");
    assert!(
        written.extra.iter().any(|t| t.access_token == bearer),
        "the cookie that came through nginx holds the fresh token"
    );
    let r = h1(
        documented.port,
        &cookie_for(&session_of(&provider, 2, true)),
    )
    .await;
    assert_eq!(r.status, 200, "documented, Set-Cookie of 2 chunks");
    assert!(
        !documented.error_log().contains("too big header")
            && !documented.error_log().contains("too large"),
        "{}",
        documented.error_log()
    );
}
