//! TLS for the tests: certificates made here with rcgen (a private CA, server and client
//! certificates), clients that trust only the test's own CA (HTTP/2 on one connection, HTTP/1.1
//! for WebSockets), and TLS upstreams (HTTP/1.1, HTTP/1.1 demanding a client certificate,
//! HTTP/2 only). Verification is never turned off anywhere.

use bytes::Bytes;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::RootCertStore;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

fn ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A certificate authority made for one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate (signed by a [`TestCa`]) with its key, as PEM.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).unwrap(),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names`: DNS names, or IP addresses written as such.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |_| {})
    }

    /// [`TestCa::leaf`] with the parameters adjusted by `tune` (e.g. the validity period).
    pub fn leaf_with(&self, names: &[&str], tune: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        for name in names {
            params.subject_alt_names.push(match name.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*name).try_into().unwrap()),
            });
        }
        params.distinguished_name.push(DnType::CommonName, names[0]);
        tune(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes the CA certificate to `dir/name` and returns the path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.pem()).unwrap();
        path
    }

    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        roots
    }
}

impl Leaf {
    /// Writes `dir/<stem>.crt` and `dir/<stem>.key`; returns both paths.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .map(|c| c.unwrap())
            .collect()
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).unwrap()
    }

    /// A server config for this certificate: ALPN `alpn`, and a client certificate signed
    /// by `client_roots` required when given.
    pub fn server_config(
        &self,
        alpn: &[&[u8]],
        client_roots: Option<RootCertStore>,
    ) -> Arc<rustls::ServerConfig> {
        ring();
        let builder = rustls::ServerConfig::builder();
        let builder = match client_roots {
            Some(roots) => builder.with_client_cert_verifier(
                rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .unwrap(),
            ),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(self.chain(), self.key()).unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// A TLS connection to `127.0.0.1:port` that trusts only `ca` and verifies the name `name`,
/// offering `alpn`.
pub async fn connect(
    port: u16,
    ca: &TestCa,
    name: &str,
    alpn: &[&[u8]],
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    ring();
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(ca.roots())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// One HTTP/2 connection to the gateway (ALPN `h2`, checked), ready for many streams.
pub async fn h2_connection(port: u16, ca: &TestCa) -> h2::client::SendRequest<Bytes> {
    let tls = connect(port, ca, "localhost", &[b"h2", b"http/1.1"])
        .await
        .expect("TLS handshake with the gateway");
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the gateway chose HTTP/2"
    );
    let (send, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

/// A response read whole from one HTTP/2 stream.
pub struct H2Response {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// `GET https://localhost:<port><path>` on a new stream of `send`'s connection.
pub async fn h2_get(
    send: &h2::client::SendRequest<Bytes>,
    port: u16,
    path: &str,
    cookie: &str,
) -> H2Response {
    let req = http::Request::builder()
        .uri(format!("https://localhost:{port}{path}"))
        .header("cookie", cookie)
        .body(())
        .unwrap();
    let mut send = send.clone().ready().await.expect("stream slot");
    let (resp, _) = send.send_request(req, true).expect("send request");
    let resp = resp.await.expect("response head");
    let status = resp.status().as_u16();
    let set_cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("body chunk");
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    H2Response {
        status,
        set_cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A TLS upstream answering every request with JSON: its name, the HTTP version it was spoken
/// to with, the `Authorization` it received and whether the client presented a certificate.
pub struct TlsUpstream {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    handshake_failures: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// How a [`TlsUpstream`] speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    Http1,
    Http2Only,
}

impl TlsUpstream {
    /// Serves `leaf` on a loopback port; with `client_roots`, only to clients presenting a
    /// certificate signed by them.
    pub async fn start(
        name: &str,
        leaf: &Leaf,
        speaks: Speaks,
        client_roots: Option<RootCertStore>,
    ) -> TlsUpstream {
        let alpn: &[&[u8]] = match speaks {
            Speaks::Http1 => &[b"http/1.1"],
            Speaks::Http2Only => &[b"h2"],
        };
        let acceptor = TlsAcceptor::from(leaf.server_config(alpn, client_roots));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let handshake_failures = Arc::new(AtomicUsize::new(0));
        let (r, f, name) = (
            requests.clone(),
            handshake_failures.clone(),
            name.to_owned(),
        );
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, r, f, name) = (acceptor.clone(), r.clone(), f.clone(), name.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        f.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    let client_cert = tls.get_ref().1.peer_certificates().is_some();
                    let seen = Seen {
                        name,
                        client_cert,
                        requests: r,
                    };
                    match speaks {
                        Speaks::Http1 => serve_http1(tls, seen).await,
                        Speaks::Http2Only => serve_http2(tls, seen).await,
                    }
                });
            }
        });
        TlsUpstream {
            addr,
            requests,
            handshake_failures,
            task,
        }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn handshake_failures(&self) -> usize {
        self.handshake_failures.load(Ordering::SeqCst)
    }
}

impl Drop for TlsUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one connection of an upstream knows about its client.
#[derive(Clone)]
struct Seen {
    name: String,
    client_cert: bool,
    requests: Arc<AtomicUsize>,
}

impl Seen {
    fn describe<B>(&self, req: &http::Request<B>) -> String {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        json!({
            "upstream": self.name,
            "version": format!("{:?}", req.version()),
            "path": req.uri().path(),
            "authorization": auth,
            "client_cert": self.client_cert,
        })
        .to_string()
    }
}

async fn serve_http1(tls: tokio_rustls::server::TlsStream<TcpStream>, seen: Seen) {
    let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let body = seen.describe(&req);
        async move { Ok::<_, std::convert::Infallible>(http::Response::new(body)) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
        .await;
}

async fn serve_http2(tls: tokio_rustls::server::TlsStream<TcpStream>, seen: Seen) {
    let Ok(mut conn) = h2::server::handshake(tls).await else {
        return;
    };
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        let body = seen.describe(&req);
        let head = http::Response::builder().status(200).body(()).unwrap();
        if let Ok(mut stream) = respond.send_response(head, false) {
            let _ = stream.send_data(Bytes::from(body), true);
        }
    }
}

/// The JSON an upstream answered.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}
