//! An upstream API stand-in that answers every request with what it received, so a test can
//! assert on the headers the gateway forwarded (Bearer token, stripped cookies, X-Forwarded-*)
//! by reading the gateway's response. It counts requests, so "never forwarded" is provable.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Clone)]
struct EchoState {
    name: String,
    count: Arc<AtomicUsize>,
}

pub struct EchoUpstream {
    name: String,
    addr: std::net::SocketAddr,
    count: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl EchoUpstream {
    /// An echo server named `echo`.
    pub async fn start() -> EchoUpstream {
        Self::named("echo").await
    }

    /// An echo server whose answers carry `"upstream": name`, to tell several apart.
    pub async fn named(name: &str) -> EchoUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind echo upstream");
        let addr = listener.local_addr().expect("echo addr");
        let count = Arc::new(AtomicUsize::new(0));
        let state = EchoState {
            name: name.to_owned(),
            count: count.clone(),
        };
        let app = axum::Router::new().fallback(echo).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        EchoUpstream {
            name: name.to_owned(),
            addr,
            count,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`, for a route's `upstream`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many requests (including WebSocket upgrades) reached this upstream.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for EchoUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The JSON description of a request: method, path and query as received, headers by lowercase
/// name with every value in order.
fn describe(name: &str, parts: &http::request::Parts) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for (k, v) in &parts.headers {
        let value = Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned());
        match headers.get_mut(k.as_str()) {
            Some(Value::Array(list)) => list.push(value),
            _ => {
                headers.insert(k.as_str().to_owned(), Value::Array(vec![value]));
            }
        }
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    json!({
        "upstream": name,
        "method": parts.method.as_str(),
        "path": path,
        "headers": headers,
    })
}

async fn echo(State(state): State<EchoState>, req: Request) -> Response {
    state.count.fetch_add(1, Ordering::SeqCst);
    let (mut parts, _body) = req.into_parts();
    let description = describe(&state.name, &parts);
    let is_upgrade = parts
        .headers
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(ws) => {
                return ws.on_upgrade(move |socket| websocket(socket, description));
            }
            Err(rejection) => return rejection.into_response(),
        }
    }
    let mut resp = Json(description).into_response();
    // Lets tests see that upstream response headers pass back through the gateway.
    resp.headers_mut()
        .insert("x-echo", http::HeaderValue::from_static("1"));
    // `?cache=public`: a response a shared cache may keep.
    if parts
        .uri
        .query()
        .is_some_and(|q| q.contains("cache=public"))
    {
        resp.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=600, no-transform"),
        );
    }
    resp
}

/// Sends the upgrade request's description, then echoes every message until the client leaves.
async fn websocket(mut socket: WebSocket, description: Value) {
    if socket
        .send(Message::Text(description.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    while let Some(Ok(msg)) = socket.recv().await {
        let reply = matches!(msg, Message::Text(_) | Message::Binary(_));
        if matches!(msg, Message::Close(_)) || (reply && socket.send(msg).await.is_err()) {
            return;
        }
    }
}
