//! TLS material, read from PEM files once and held ready for the handshakes that use it
//! (`docs/reference.md#tls-and-http2`):
//!
//! * [`pem`]: PEM files → DER certificates and keys, every problem a message naming the file.
//! * [`listener`]: the proxy listener's certificate, served by a resolver whose certificate is
//!   swapped in place when the files change (`reload::certificate`), so new handshakes get the
//!   new certificate while established connections keep theirs.
//! * [`upstream`]: a route's private CA bundle and client certificate, loaded with the config
//!   (never per request) in the form pingora's connector takes.
//!
//! rustls with `ring` throughout, like the rest of the process; verification is never turned off.

pub mod listener;
pub mod pem;
pub mod upstream;
