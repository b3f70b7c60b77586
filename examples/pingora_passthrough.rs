//! The floor of any pingora-based proxy, for `benches/load/run.sh`: pingora forwarding to one
//! upstream with none of tokengate's code, configured like the gateway (`threads: 2`). Its row
//! in BENCHMARKS.md separates pingora's own cost per request from tokengate's. Same allocator as
//! the gateway (mimalloc), so the difference between the rows is tokengate's code.
//!
//!   LISTEN=127.0.0.1:8081 UPSTREAM=127.0.0.1:9000 [WORK_STEALING=false] pingora_passthrough

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use async_trait::async_trait;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

struct Passthrough {
    upstream: String,
}

#[async_trait]
impl ProxyHttp for Passthrough {
    type CTX = ();
    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }
}

fn main() {
    let (Ok(listen), Ok(upstream)) = (std::env::var("LISTEN"), std::env::var("UPSTREAM")) else {
        eprintln!("usage: LISTEN=host:port UPSTREAM=host:port pingora_passthrough");
        std::process::exit(2);
    };
    let work_stealing = std::env::var("WORK_STEALING").map_or(true, |v| v != "false");
    let id = std::process::id();
    let conf = ServerConf {
        threads: 2,
        work_stealing,
        upgrade_sock: format!("/tmp/pingora-passthrough-{id}.sock"),
        pid_file: format!("/tmp/pingora-passthrough-{id}.pid"),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut proxy =
        pingora::proxy::http_proxy_service(&server.configuration, Passthrough { upstream });
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    server.run_forever();
}
