//! The gateway's own signing key for the identity assertion (`server.assertion_key`,
//! docs/reference.md#access-policy-and-identity): a P-256 private key read from PEM, in PKCS#8
//! (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`, what `openssl ecparam -genkey`
//! writes) form, ready to sign ES256 JWTs, with its public half as a JWK whose `kid` is the
//! RFC 7638 thumbprint (so a verifier can tell keys apart without any naming convention).

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;

/// A P-256 key that signs ES256 JWTs.
pub struct SigningKey {
    kid: String,
    key: EncodingKey,
    public: Jwk,
}

/// Debug output shows the key's id only, never the key.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// `INTEGER 0, SEQUENCE { id-ecPublicKey, prime256v1 }`: the start of a P-256 PKCS#8 key, in
/// front of the SEC1 key it wraps (as rustls does for SEC1 keys, which `ring` cannot read).
const PKCS8_P256_PREFIX: &[u8] = b"\x02\x01\x00\x30\x13\
    \x06\x07\x2a\x86\x48\xce\x3d\x02\x01\
    \x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07";

impl SigningKey {
    /// Reads the first private key of a PEM document. The messages never quote the key.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, String> {
        super::install();
        let pkcs8 = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(PrivateKeyDer::Pkcs8(der)) => der.secret_pkcs8_der().to_vec(),
            Ok(PrivateKeyDer::Sec1(der)) => sec1_to_pkcs8(der.secret_sec1_der()),
            Ok(PrivateKeyDer::Pkcs1(_)) => {
                return Err(
                    "is an RSA key; the assertion is signed with ES256, which needs a \
                            P-256 key (openssl ecparam -genkey -name prime256v1 -noout)"
                        .to_owned(),
                )
            }
            Ok(_) | Err(_) => {
                return Err(
                    "holds no PEM private key (expected BEGIN PRIVATE KEY or BEGIN EC \
                            PRIVATE KEY)"
                        .to_owned(),
                )
            }
        };
        EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| {
            "is not a P-256 (prime256v1) private key; the assertion is signed with ES256 \
                 (openssl ecparam -genkey -name prime256v1 -noout)"
                .to_owned()
        })?;
        let key = EncodingKey::from_ec_der(&pkcs8);
        let mut public = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|_| "is not a usable P-256 private key".to_owned())?;
        let kid = public.thumbprint(ThumbprintHash::SHA256);
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        public.common.key_algorithm = Some(KeyAlgorithm::ES256);
        Ok(SigningKey { kid, key, public })
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key, base64url.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`kid`, `use: sig`, `alg: ES256`).
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// Signs `claims` as a compact JWS with header `{"alg":"ES256","typ":"JWT","kid":...}`.
    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> Result<String, String> {
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| e.to_string())
    }
}

/// The PKCS#8 form of a SEC1 `ECPrivateKey` on P-256.
fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    let mut body = PKCS8_P256_PREFIX.to_vec();
    body.extend(der(0x04, sec1));
    der(0x30, &body)
}

/// A DER element: tag, definite length, content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests;
