//! Sealing and opening session cookies: the only place where session state becomes bytes a
//! browser holds. Everything here is pure (but for the random nonce), so the proxy can treat a
//! cookie as either a valid [`Session`] or a [`CodecError`] with a metric label — never a 5xx.
//!
//! # Sealed format (version 1)
//!
//! ```text
//! base64url_nopad( version:u8 = 1 || key_id:[u8; 4] || nonce:[u8; 12] || ciphertext || tag:[u8; 16] )
//! AEAD      = AES-256-GCM
//! AAD       = version || key_id || purpose
//! key_id    = SHA-256("tokengate key id" || key)[..4]
//! ```
//!
//! * The version byte lets a future format be told apart from tampering.
//! * The key id names the key that sealed the value, so after a rotation opening picks the right
//!   key at once instead of trying each one; it is a hash prefix, so it reveals nothing about the key.
//! * The `purpose` (the cookie name, or `tx:<name>` for a login transaction) is bound into the tag,
//!   so a value sealed for one kind of cookie cannot be replayed as another.
//! * The nonce is random per seal: 96 random bits stay far below the collision bound for the
//!   number of cookies one key will ever seal.
//!
//! A sealed value longer than one cookie is split into chunks `NAME`, `NAME.1`, `NAME.2`, ...
//! (`docs/reference.md#session-size`); `session::cookie::chunks` does that on the opaque string.

use super::model::Session;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;

/// The format version this code writes and the only one it reads.
pub const VERSION: u8 = 1;
/// The most bytes one cookie value may hold (`docs/reference.md#session-size`); browsers cap a whole cookie near 4096.
pub const MAX_COOKIE_VALUE: usize = 4000;
/// The most chunks a session may be split into; more is refused rather than read, so a client
/// cannot make the gateway concatenate and decrypt an unbounded header.
pub const MAX_CHUNKS: usize = 16;
/// The longest sealed string accepted by [`KeyRing::open`] and produced by [`KeyRing::seal`]. It
/// equals what [`MAX_CHUNKS`] chunks can carry, so everything that can be sealed can be chunked,
/// joined and opened again.
pub const MAX_SEALED_LEN: usize = MAX_CHUNKS * MAX_COOKIE_VALUE;

const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;
const KEY_ID_CONTEXT: &[u8] = b"tokengate key id";

type KeyId = [u8; KEY_ID_LEN];

/// Why a sealed value was not accepted. The messages never include the input: it is a secret
/// (or an attacker's payload) and must not reach logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("sealed value is not well-formed")]
    Malformed,
    #[error("sealed value has an unsupported format version")]
    UnsupportedVersion,
    #[error("sealed value names a key that is not configured")]
    UnknownKey,
    #[error("sealed value failed authentication")]
    Tampered,
    #[error("sealed value is too large")]
    TooLarge,
    #[error("sealed value does not hold a valid session")]
    BadPayload,
    #[error("no session key configured")]
    NoKeys,
}

impl CodecError {
    /// A short, stable label for metrics and logs (`tokengate_..._total{reason="tampered"}`).
    pub fn reason(&self) -> &'static str {
        match self {
            CodecError::Malformed => "malformed",
            CodecError::UnsupportedVersion => "version",
            CodecError::UnknownKey => "unknown_key",
            CodecError::Tampered => "tampered",
            CodecError::TooLarge => "too_large",
            CodecError::BadPayload => "payload",
            CodecError::NoKeys => "no_keys",
        }
    }
}

/// The session keys, ready to use. The first key seals; every key opens, so a new key can be put
/// first while cookies sealed with the old one stay readable until they expire (rotation).
#[derive(Clone)]
pub struct KeyRing {
    /// Non-empty by construction; index 0 is the sealing key.
    keys: Vec<(KeyId, Aes256Gcm)>,
}

impl fmt::Debug for KeyRing {
    /// Shows only the key ids: a key must never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(id, _)| KeyIdHex(*id)))
            .finish()
    }
}

struct KeyIdHex(KeyId);

impl fmt::Debug for KeyIdHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl KeyRing {
    /// Builds the ring from raw 32-byte keys, sealing key first. An empty list is
    /// [`CodecError::NoKeys`]: a gateway without a key cannot hold sessions.
    pub fn new(keys: &[[u8; 32]]) -> Result<KeyRing, CodecError> {
        if keys.is_empty() {
            return Err(CodecError::NoKeys);
        }
        let keys = keys
            .iter()
            .map(|k| (key_id(k), Aes256Gcm::new(&(*k).into())))
            .collect();
        Ok(KeyRing { keys })
    }

    /// Encrypts `plaintext` for `purpose` with the first key, in the format described at the top
    /// of this file. Fails with [`CodecError::TooLarge`] when the result would exceed
    /// [`MAX_SEALED_LEN`], because [`KeyRing::open`] would refuse it.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, CodecError> {
        let raw_len = plaintext.len().saturating_add(HEADER_LEN + TAG_LEN);
        if base64_len(raw_len) > MAX_SEALED_LEN {
            return Err(CodecError::TooLarge);
        }
        let (key_id, cipher) = self.keys.first().ok_or(CodecError::NoKeys)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = aad(*key_id, purpose);
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // Only a plaintext of many gigabytes fails to encrypt; the bound above excludes it.
            .map_err(|_| CodecError::TooLarge)?;
        let mut raw = Vec::with_capacity(raw_len);
        raw.push(VERSION);
        raw.extend_from_slice(key_id);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Decrypts a value produced by [`KeyRing::seal`] for the same `purpose` with any key of the
    /// ring. Any change to the value, a different purpose, or a key no longer configured is an
    /// error; a wrong plaintext is never returned.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, CodecError> {
        if sealed.len() > MAX_SEALED_LEN {
            return Err(CodecError::TooLarge);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| CodecError::Malformed)?;
        let (&version, rest) = raw.split_first().ok_or(CodecError::Malformed)?;
        if version != VERSION {
            return Err(CodecError::UnsupportedVersion);
        }
        if rest.len() < KEY_ID_LEN + NONCE_LEN + TAG_LEN {
            return Err(CodecError::Malformed);
        }
        let (key_id, rest) = rest
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(CodecError::Malformed)?;
        let (nonce, ciphertext) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(CodecError::Malformed)?;
        let aad = aad(*key_id, purpose);
        // Normally one key matches; a 32-bit id can collide, so every key with the id is tried.
        let mut candidates = self.keys.iter().filter(|(id, _)| id == key_id).peekable();
        if candidates.peek().is_none() {
            return Err(CodecError::UnknownKey);
        }
        candidates
            .find_map(|(_, cipher)| {
                cipher
                    .decrypt(
                        &Nonce::from(*nonce),
                        Payload {
                            msg: ciphertext,
                            aad: &aad,
                        },
                    )
                    .ok()
            })
            .ok_or(CodecError::Tampered)
    }

    /// Seals a session as JSON (the short field names of [`Session`] keep the cookie small).
    pub fn seal_session(&self, purpose: &str, session: &Session) -> Result<String, CodecError> {
        // Serialising these plain structs cannot fail; map it anyway rather than panic.
        let json = serde_json::to_vec(session).map_err(|_| CodecError::BadPayload)?;
        self.seal(purpose, &json)
    }

    /// Opens a sealed session. An authentic value that is not a [`Session`] (a format change
    /// without a version bump) is [`CodecError::BadPayload`].
    pub fn open_session(&self, purpose: &str, sealed: &str) -> Result<Session, CodecError> {
        let json = self.open(purpose, sealed)?;
        serde_json::from_slice(&json).map_err(|_| CodecError::BadPayload)
    }
}

/// The key's public name: a hash prefix under a fixed context, so it reveals nothing of the key.
fn key_id(key: &[u8; 32]) -> KeyId {
    let digest = Sha256::new()
        .chain_update(KEY_ID_CONTEXT)
        .chain_update(key)
        .finalize();
    let mut id = [0u8; KEY_ID_LEN];
    id.iter_mut().zip(digest.iter()).for_each(|(d, s)| *d = *s);
    id
}

fn aad(key_id: KeyId, purpose: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + KEY_ID_LEN + purpose.len());
    aad.push(VERSION);
    aad.extend_from_slice(&key_id);
    aad.extend_from_slice(purpose.as_bytes());
    aad
}

/// Length of unpadded base64 for `n` bytes.
/// The length of the value [`KeyRing::seal`] makes of `plaintext_len` bytes: the format is
/// fixed-size around the ciphertext, so the size of a cookie is known before sealing it.
pub fn sealed_len(plaintext_len: usize) -> usize {
    base64_len(plaintext_len.saturating_add(HEADER_LEN + TAG_LEN))
}

fn base64_len(n: usize) -> usize {
    n.saturating_mul(4).div_ceil(3)
}

/// A fresh random 32-byte key for `session.keys`, base64url without padding (`tokengate keygen`).
pub fn generate_key() -> String {
    let key: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(key)
}

#[cfg(test)]
mod tests;
