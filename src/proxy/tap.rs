//! The client connection as pingora reads it, with every byte also shown to
//! [`http::framing`](crate::http::framing) on the way (HTTP/1 only: HTTP/2 frames its own
//! messages).
//!
//! pingora's request parser accepts framing other servers read differently (a bare LF in a chunk
//! extension, see `http::framing`), and rewrites a request target with control characters before
//! any hook sees it; its `request_body_filter` sees chunk *data* only, never the chunk lines. So
//! the framing is judged here, on the raw bytes, below pingora's parser: a read whose bytes break
//! the chunked grammar fails before pingora sees them (pingora then drops the upstream
//! connection, and `fail_to_proxy` answers `400` if nothing was answered yet), and each request's
//! head is kept as received for the `screen` step.
//!
//! The tap is put around a connection's stream once, by the listener (`limits::HeaderDeadline`),
//! and survives keep-alive reuse with the connection.

use crate::http::framing::connection::{Connection, Observed};
use crate::http::framing::Violation;
use async_trait::async_trait;
use pingora::protocols::http::ServerSession;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN, IO,
};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client connection's stream, and the framing of what was read from it.
#[derive(Debug)]
pub struct Tap {
    inner: Stream,
    wire: Mutex<Connection>,
}

impl Tap {
    /// `session` with its stream tapped, when it is HTTP/1 and not tapped yet (a kept-alive
    /// connection's next session already is). pingora's keep-alive settings are carried over.
    pub fn install(session: ServerSession) -> ServerSession {
        if !matches!(&session, ServerSession::H1(h1) if tap_of(h1.stream()).is_none()) {
            return session;
        }
        let keepalive = session.get_keepalive();
        let reuses = session.get_keepalive_reuses_remaining();
        let ServerSession::H1(h1) = session else {
            unreachable!("matched as HTTP/1 above")
        };
        let tap = Tap {
            inner: h1.into_inner(),
            wire: Mutex::new(Connection::new()),
        };
        let mut tapped = ServerSession::new_http1(Box::new(tap));
        tapped.set_keepalive(keepalive);
        tapped.set_keepalive_reuses_remaining(reuses);
        tapped
    }

    /// The tap of a session's connection, if it has one.
    pub fn of(session: &ServerSession) -> Option<&Tap> {
        session.as_http1().and_then(|h1| tap_of(h1.stream()))
    }

    /// The head of the request pingora has just parsed, as received.
    pub fn take_head(&self) -> Option<Observed> {
        self.wire().take_head()
    }

    /// What broke the connection's framing, if anything did.
    pub fn violation(&self) -> Option<Violation> {
        self.wire().violation()
    }

    /// The request was answered with `101`: what follows is another protocol.
    pub fn upgraded(&self) {
        self.wire().upgraded();
    }

    /// The request was answered (and not upgraded).
    pub fn answered(&self) {
        self.wire().answered();
    }

    fn wire(&self) -> MutexGuard<'_, Connection> {
        self.wire.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn tap_of(stream: &Stream) -> Option<&Tap> {
    let stream: &dyn IO = &**stream;
    stream.as_any().downcast_ref::<Tap>()
}

impl AsyncRead for Tap {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let fed = this.wire().feed(&buf.filled()[before..]);
        if let Err(v) = fed {
            // pingora never sees these bytes, so it never forwards them.
            buf.set_filled(before);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, v.detail())));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

// What pingora asks of a stream besides reading and writing: the wrapped stream's answers.

#[async_trait]
impl Shutdown for Tap {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await
    }
}

impl UniqueID for Tap {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Tap {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Tap {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Tap {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest)
    }
}

impl GetSocketDigest for Tap {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest)
    }
}

#[async_trait]
impl Peek for Tap {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}
