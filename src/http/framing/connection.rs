//! One client connection's bytes, followed request after request: a head, its body (by
//! `Content-Length` or chunk by chunk), the next head; after a request that asks for an upgrade,
//! either a tunnel (the answer was `101`) or the next head.
//!
//! The listener feeds it every byte read from the client, before pingora parses them. A head is
//! kept, as received, for the request it belongs to ([`Connection::take_head`]): the raw bytes
//! the `screen` step checks, which pingora may already have rewritten. A body that breaks the
//! chunked grammar fails the read that carries the bad bytes, so pingora never forwards them; a
//! head that breaks a rule is handed on with its [`Violation`] (the `screen` step answers `400`)
//! and every later read fails.

use super::chunked::ChunkedBody;
use super::head::{self, Body, Scan};
use super::Violation;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// The largest head followed; pingora refuses heads over 1 MiB itself.
pub const MAX_HEAD: usize = 1024 * 1024 + 1024;
/// Heads received and not yet served. pingora serves one request at a time and does not reuse a
/// connection on which more arrived, so more than one is rare; more than this is refused.
const MAX_WAITING: usize = 4;

/// A request head as received, and what is wrong with it, if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub head: Bytes,
    pub violation: Option<Violation>,
}

#[derive(Debug)]
enum Phase {
    Head,
    Body {
        body: BodyLeft,
        upgrade: bool,
    },
    /// An upgrade request was read: until its answer, what follows may be another protocol.
    AwaitUpgrade,
    Tunnel,
}

#[derive(Debug)]
enum BodyLeft {
    Length(u64),
    Chunked(ChunkedBody),
}

impl BodyLeft {
    /// Reads body bytes: what follows the body, and whether it ended.
    fn read<'b>(&mut self, bytes: &'b [u8]) -> Result<(&'b [u8], bool), Violation> {
        match self {
            BodyLeft::Length(left) => {
                let take = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                *left -= take as u64;
                Ok((&bytes[take..], *left == 0))
            }
            BodyLeft::Chunked(chunked) => Ok(match chunked.feed(bytes)? {
                Some(end) => (&bytes[end..], true),
                None => (&[], false),
            }),
        }
    }
}

/// The framing of one connection.
#[derive(Debug)]
pub struct Connection {
    phase: Phase,
    /// The head being received (or, while an upgrade is pending, what followed it).
    buf: BytesMut,
    /// Where to resume looking for the end of the head in `buf`.
    scanned: usize,
    waiting: VecDeque<Observed>,
    /// Once set, every later read fails with it.
    broken: Option<Violation>,
}

impl Default for Connection {
    fn default() -> Self {
        Self::new()
    }
}

impl Connection {
    pub fn new() -> Connection {
        Connection {
            phase: Phase::Head,
            buf: BytesMut::new(),
            scanned: 0,
            waiting: VecDeque::new(),
            broken: None,
        }
    }

    /// Follows `bytes`, just read from the client. An error means the read must fail: those
    /// bytes (or earlier ones) would be framed differently by another server. A violation in the
    /// read that also completed a head goes with that head instead, so that the request is
    /// answered `400` (its bytes are then still in pingora's buffer, not forwarded); every later
    /// read fails.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Violation> {
        if let Some(v) = self.broken {
            return Err(v);
        }
        let mut new_head = false;
        while !bytes.is_empty() && self.broken.is_none() {
            bytes = match &mut self.phase {
                Phase::Tunnel => return Ok(()),
                Phase::AwaitUpgrade => {
                    self.keep(bytes);
                    &[]
                }
                Phase::Head => {
                    let (rest, ended) = self.head(bytes);
                    new_head |= ended;
                    rest
                }
                Phase::Body { body, upgrade } => {
                    let upgrade = *upgrade;
                    let (rest, done) = match body.read(bytes) {
                        Ok(read) => read,
                        Err(v) => {
                            self.broken = Some(v);
                            break;
                        }
                    };
                    if done {
                        self.body_done(upgrade);
                    }
                    rest
                }
            };
        }
        match self.broken {
            Some(v) if !new_head => Err(v),
            Some(v) => {
                if let Some(last) = self.waiting.back_mut() {
                    last.violation.get_or_insert(v);
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The oldest head not yet served: the one of the request pingora has just parsed.
    pub fn take_head(&mut self) -> Option<Observed> {
        self.waiting.pop_front()
    }

    /// The violation that broke the connection, if one did.
    pub fn violation(&self) -> Option<Violation> {
        self.broken
    }

    /// The request was answered with `101`: the connection is now a tunnel of another protocol.
    pub fn upgraded(&mut self) {
        self.phase = Phase::Tunnel;
        self.buf = BytesMut::new();
    }

    /// The request was answered. After an upgrade request that was not upgraded, what followed
    /// it is the next request.
    pub fn answered(&mut self) {
        if matches!(self.phase, Phase::AwaitUpgrade) {
            self.phase = Phase::Head;
            let pending = std::mem::take(&mut self.buf);
            // A failure is kept in `broken`: the next read reports it.
            let _ = self.feed(&pending);
        }
    }

    /// Reads head bytes; returns what follows the head, and whether it ended.
    fn head<'b>(&mut self, bytes: &'b [u8]) -> (&'b [u8], bool) {
        let take = bytes.len().min(MAX_HEAD.saturating_sub(self.buf.len()));
        self.buf.extend_from_slice(&bytes[..take]);
        let end = match head::scan_end(&self.buf, self.scanned) {
            Scan::Complete(end) => end,
            Scan::Partial { resume } => {
                self.scanned = resume;
                if self.buf.len() >= MAX_HEAD {
                    self.broken = Some(Violation::Unobserved);
                }
                return (&bytes[take..], false);
            }
        };
        // The bytes after the head came from `bytes`: hand them back instead of keeping them.
        let after = self.buf.len() - end;
        self.buf.truncate(end);
        self.scanned = 0;
        let raw = self.buf.split().freeze();
        let checked = head::check(&raw);
        self.wait(Observed {
            head: raw,
            violation: checked.err(),
        });
        match checked {
            Ok(h) => {
                self.phase = Phase::Body {
                    body: match h.body {
                        Body::Length(n) => BodyLeft::Length(n),
                        Body::Chunked => BodyLeft::Chunked(ChunkedBody::new()),
                    },
                    upgrade: h.upgrade,
                };
                if h.body == Body::Length(0) {
                    self.body_done(h.upgrade);
                }
            }
            // The head itself is answered (`400`); nothing after it is followed.
            Err(v) => self.broken = Some(v),
        }
        (&bytes[take - after..], true)
    }

    fn wait(&mut self, observed: Observed) {
        if self.waiting.len() >= MAX_WAITING {
            self.broken = Some(Violation::Unobserved);
        } else {
            self.waiting.push_back(observed);
        }
    }

    fn body_done(&mut self, upgrade: bool) {
        self.phase = if upgrade {
            Phase::AwaitUpgrade
        } else {
            Phase::Head
        };
    }

    /// Keeps what follows an upgrade request, bounded like a head.
    fn keep(&mut self, bytes: &[u8]) {
        if self.buf.len() + bytes.len() > MAX_HEAD {
            self.broken = Some(Violation::Unobserved);
            return;
        }
        self.buf.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests;
