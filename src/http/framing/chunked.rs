//! A chunked request body (RFC 9112 §7.1), read strictly as its bytes arrive, in pieces of any
//! size, keeping no data: only where it is in the grammar.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! ```
//!
//! Refused, where `httparse` (pingora's parser) accepts: any byte but CR ends nothing in a chunk
//! extension there, so a bare LF, a bare CR or a quoted CRLF inside one is a line end for some
//! servers and not for others. Here an extension is tokens and quoted strings only, every line
//! ends with CRLF, a chunk line is at most [`MAX_LINE`] bytes and trailers at most
//! [`MAX_TRAILERS`] bytes. Whitespace after the size is tolerated (it ends nothing).

use super::{is_tchar, Violation};

/// The longest chunk line (size and extensions) accepted; pingora buffers up to 8 KiB of one.
pub const MAX_LINE: usize = 4096;
/// The most trailer-section bytes accepted.
pub const MAX_TRAILERS: usize = 16 * 1024;
/// `chunk-size` digits accepted (`httparse` stops at 16: a `u64`).
const MAX_DIGITS: u8 = 16;

/// Where the reader is in the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In `chunk-size`: `digits` read so far.
    Size {
        digits: u8,
    },
    /// After the size: only whitespace, `;` or CR.
    AfterSize,
    /// After `;` (and whitespace): an extension name must start.
    ExtName {
        started: bool,
    },
    /// After a name (and whitespace): `=`, `;` or CR.
    AfterName,
    /// After `=` (and whitespace): a token or a quoted string.
    ExtValue {
        started: bool,
    },
    Quoted,
    QuotedEscape,
    /// After a value: whitespace, `;` or CR.
    AfterValue,
    /// The chunk line's CR was read; its LF must follow.
    LineLf,
    Data,
    DataCr,
    DataLf,
    /// In the trailer section; `at_start`: at the start of a line.
    Trailer {
        at_start: bool,
    },
    TrailerLf {
        last: bool,
    },
    Done,
}

/// The reader of one chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedBody {
    state: State,
    /// The current chunk's size, then the data bytes still to come.
    size: u64,
    /// Bytes of the current chunk line, or of the whole trailer section.
    line: usize,
}

impl Default for ChunkedBody {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedBody {
    pub fn new() -> ChunkedBody {
        ChunkedBody {
            state: State::Size { digits: 0 },
            size: 0,
            line: 0,
        }
    }

    /// True once the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads the next bytes of the body. `Ok(Some(n))`: the body ended after `bytes[..n]` (what
    /// follows belongs to the next request); `Ok(None)`: every byte was read, more are needed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<usize>, Violation> {
        let mut at = 0;
        while at < bytes.len() {
            if self.state == State::Done {
                return Ok(Some(at));
            }
            if self.state == State::Data {
                // Chunk data is skipped whole, without looking at it.
                let take = usize::try_from(self.size)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - at);
                at += take;
                self.size -= take as u64;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            self.byte(bytes[at])?;
            at += 1;
        }
        Ok(self.is_done().then_some(at))
    }

    /// One byte of a chunk line, of the CRLF after data, or of the trailer section.
    fn byte(&mut self, b: u8) -> Result<(), Violation> {
        use State::*;
        let ws = b == b' ' || b == b'\t';
        let next = match self.state {
            Size { digits } => match hex(b) {
                Some(v) if digits < MAX_DIGITS => {
                    self.size = self.size << 4 | u64::from(v);
                    Size { digits: digits + 1 }
                }
                None if digits > 0 => return self.after_size(b),
                _ => return Err(Violation::InvalidChunk),
            },
            AfterSize if ws => AfterSize,
            AfterSize => return self.after_size(b),
            ExtName { started: false } if ws => ExtName { started: false },
            ExtName { started: true } | AfterName if ws => AfterName,
            ExtName { .. } if is_tchar(b) => ExtName { started: true },
            ExtName { started: true } | AfterName => self.after_item(b, true)?,
            ExtValue { started: false } if ws => ExtValue { started: false },
            ExtValue { started: false } if b == b'"' => Quoted,
            ExtValue { .. } if is_tchar(b) => ExtValue { started: true },
            ExtValue { started: true } | AfterValue if ws => AfterValue,
            ExtValue { started: true } | AfterValue => self.after_item(b, false)?,
            Quoted if b == b'"' => AfterValue,
            Quoted if b == b'\\' => QuotedEscape,
            Quoted if is_qdtext(b) => Quoted,
            QuotedEscape if b == b'\t' || b == b' ' || (0x21..0x7f).contains(&b) || b >= 0x80 => {
                Quoted
            }
            LineLf if b == b'\n' => self.line_end(),
            DataCr if b == b'\r' => DataLf,
            DataLf if b == b'\n' => Size { digits: 0 },
            Trailer { .. } | TrailerLf { .. } => self.trailer(b)?,
            _ => return Err(Violation::InvalidChunk),
        };
        self.state = next;
        self.count_line()
    }

    /// What may follow the size: whitespace, `;`, or the line's CR.
    fn after_size(&mut self, b: u8) -> Result<(), Violation> {
        self.state = match b {
            b' ' | b'\t' => State::AfterSize,
            b';' => State::ExtName { started: false },
            b'\r' => State::LineLf,
            _ => return Err(Violation::InvalidChunk),
        };
        self.count_line()
    }

    /// What may follow an extension's name (`name` is true) or value: `=` (after a name), `;`,
    /// or the line's CR.
    fn after_item(&self, b: u8, name: bool) -> Result<State, Violation> {
        match b {
            b'=' if name => Ok(State::ExtValue { started: false }),
            b';' => Ok(State::ExtName { started: false }),
            b'\r' => Ok(State::LineLf),
            _ => Err(Violation::InvalidChunk),
        }
    }

    /// The chunk line ended: its data follows, or, after the last chunk, the trailer section.
    fn line_end(&mut self) -> State {
        self.line = 0;
        if self.size == 0 {
            State::Trailer { at_start: true }
        } else {
            State::Data
        }
    }

    /// One byte of the trailer section: field lines, each ended by CRLF, then an empty line.
    fn trailer(&mut self, b: u8) -> Result<State, Violation> {
        use State::*;
        let field_byte = b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80;
        match (self.state, b) {
            (Trailer { at_start: true }, b'\r') => Ok(TrailerLf { last: true }),
            (Trailer { .. }, b'\r') => Ok(TrailerLf { last: false }),
            (Trailer { at_start: true }, _) if is_tchar(b) => Ok(Trailer { at_start: false }),
            (Trailer { at_start: false }, _) if field_byte => Ok(Trailer { at_start: false }),
            (TrailerLf { last: true }, b'\n') => Ok(Done),
            (TrailerLf { last: false }, b'\n') => Ok(Trailer { at_start: true }),
            _ => Err(Violation::InvalidChunk),
        }
    }

    /// Counts a byte of the current chunk line (or of the trailer section) against its bound.
    fn count_line(&mut self) -> Result<(), Violation> {
        let limit = match self.state {
            State::Data | State::DataCr | State::DataLf | State::Done => return Ok(()),
            State::Size { digits: 0 } if self.line == 0 => return Ok(()),
            State::Trailer { .. } | State::TrailerLf { .. } => MAX_TRAILERS,
            _ => MAX_LINE,
        };
        self.line += 1;
        if self.line > limit {
            return Err(Violation::InvalidChunk);
        }
        Ok(())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `qdtext` of RFC 9110 §5.6.4: a quoted string holds no control character but HTAB.
fn is_qdtext(b: u8) -> bool {
    b == b'\t'
        || b == b' '
        || b == 0x21
        || (0x23..=0x5b).contains(&b)
        || (0x5d..0x7f).contains(&b)
        || b >= 0x80
}

#[cfg(test)]
mod tests;
