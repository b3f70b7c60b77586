//! The pipeline run from a plain request, without pingora: what a listener that answers instead
//! of proxying (forward-auth) relies on.

use super::*;
use crate::app::Loaded;
use crate::http::request::BodyError;
use crate::http::{ErrorCode, RequestView};
use async_trait::async_trait;
use http::{HeaderMap, HeaderValue, Method, Version};
use std::net::IpAddr;

const CONFIG: &str = r#"
server:
  listen: "127.0.0.1:8080"
  public_url: "http://127.0.0.1:8080"
provider:
  issuer: "http://127.0.0.1:1/"
  client_id: gateway
  client_secret: secret
session:
  keys: ["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"]
routes:
  - name: public
    path_prefix: /public
    upstream: "http://127.0.0.1:9101"
    strip_prefix: true
    auth: none
  - name: orders
    path_prefix: /api/orders
    upstream: "http://127.0.0.1:9102"
"#;

/// A request as a plain value.
struct Plain {
    method: Method,
    path: &'static str,
    query: Option<&'static str>,
    headers: HeaderMap,
}

impl Plain {
    fn get(path: &'static str, query: Option<&'static str>) -> Plain {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_static("127.0.0.1:8080"),
        );
        Plain {
            method: Method::GET,
            path,
            query,
            headers,
        }
    }
}

#[async_trait]
impl Incoming for Plain {
    fn view(&self) -> RequestView<'_> {
        RequestView {
            method: &self.method,
            version: Version::HTTP_11,
            host: Some("127.0.0.1:8080"),
            path: self.path,
            query: self.query,
            headers: &self.headers,
            client_ip: Some(IpAddr::from([127, 0, 0, 1])),
            raw_head: None,
            framing: None,
            target_len: self.path.len() + self.query.map_or(0, |q| q.len() + 1),
        }
    }

    async fn read_body(&mut self, _limit: usize) -> Result<Vec<u8>, BodyError> {
        Ok(Vec::new())
    }
}

async fn run_plain(mut req: Plain) -> (Flow, RequestState) {
    let config = crate::config::parse_str(CONFIG, &|_| None).expect("a valid config");
    let app = App::new(Loaded::new(config).expect("loads")).expect("the process state");
    let mut state = RequestState::new(app.current.load_full());
    let flow = run(&app, &mut req, &mut state).await;
    (flow, state)
}

fn answer(flow: Flow) -> Reply {
    match flow {
        ControlFlow::Break(reply) => reply,
        ControlFlow::Continue(()) => panic!("expected an answer, the request would be proxied"),
    }
}

#[tokio::test]
async fn a_public_route_goes_upstream_with_its_target_and_no_token() {
    let (flow, state) = run_plain(Plain::get("/public/a/../b", Some("x=1"))).await;
    assert_eq!(flow, ControlFlow::Continue(()));
    assert_eq!(state.route_name(), "public");
    assert_eq!(state.upstream.target, "/b?x=1");
    assert_eq!(state.upstream.authority, "127.0.0.1:9101");
    assert_eq!(state.upstream.client_ip, Some(IpAddr::from([127, 0, 0, 1])));
    assert_eq!(state.token_label(), "none");
    assert!(state.bearer().is_none());
}

#[tokio::test]
async fn each_step_can_answer() {
    let (flow, state) = run_plain(Plain::get("/nowhere", None)).await;
    let reply = answer(flow);
    assert_eq!((reply.status, reply.code), (404, Some(ErrorCode::NoRoute)));
    assert!(state.route.is_none());

    let (flow, state) = run_plain(Plain::get("/api/orders/1", None)).await;
    let reply = answer(flow);
    assert_eq!(
        (reply.status, reply.code),
        (401, Some(ErrorCode::Unauthenticated))
    );
    assert_eq!(state.route_name(), "orders");

    let (flow, _) = run_plain(Plain::get("/auth/nothing-here", None)).await;
    let reply = answer(flow);
    assert_eq!((reply.status, reply.code), (404, Some(ErrorCode::NotFound)));

    let mut no_host = Plain::get("/public/x", None);
    no_host.headers.clear();
    let (flow, state) = run_plain(no_host).await;
    let reply = answer(flow);
    assert_eq!(
        (reply.status, reply.code),
        (400, Some(ErrorCode::BadRequest))
    );
    assert!(state.close, "a refused head closes the connection");
}
