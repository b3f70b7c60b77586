//! The cryptography behind `jsonwebtoken`, on `ring`: the library rustls (and so pingora, reqwest
//! and redis) already links for TLS.
//!
//! `jsonwebtoken` 10 ships two backends, and both cost something here: RustCrypto pulls the `rsa`
//! crate, which carries an open advisory (RUSTSEC-2023-0071, a timing side channel in RSA
//! decryption, no fixed release), and aws-lc builds a C library with cmake that is the slowest
//! crate in the tree. The crate is therefore built without a backend and this module plugs in a
//! [`CryptoProvider`] that maps every JWS algorithm onto `ring`: HMAC, RSA PKCS#1 v1.5 and PSS
//! (verification needs a 2048- to 8192-bit modulus), ECDSA P-256/P-384 and Ed25519, signing and
//! verifying. docs/supply-chain.md records the measurements behind the choice.
//!
//! [`install`] must run before the first token is signed or verified: `jsonwebtoken` built without
//! a backend otherwise settles on a provider that panics.

pub mod signing_key;

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair};
use ring::{digest, hmac};

/// The provider [`install`] makes the process default.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components,
        extract_ec_public_key_coordinates,
        compute_digest,
    },
};

/// Makes [`PROVIDER`] `jsonwebtoken`'s process-wide provider. Cheap and idempotent, so every
/// entry point that may verify or sign a token calls it rather than relying on `main` alone.
pub fn install() {
    // Err only means a provider is already set; this crate never installs another one.
    let _ = PROVIDER.install_default();
}

/// What a signature is checked with, prepared once per key and algorithm.
enum Check {
    Hmac(hmac::Key),
    /// A DER `RSAPublicKey`, an uncompressed EC point, or a raw Ed25519 key.
    Public(&'static dyn sig::VerificationAlgorithm, Vec<u8>),
    /// An RSA key given as modulus and exponent (a JWK's `n` and `e`).
    RsaComponents(&'static sig::RsaParameters, Vec<u8>, Vec<u8>),
}

struct RingVerifier {
    alg: Algorithm,
    check: Check,
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let ok = match &self.check {
            Check::Hmac(key) => hmac::verify(key, msg, signature).is_ok(),
            Check::Public(alg, key) => sig::UnparsedPublicKey::new(*alg, key)
                .verify(msg, signature)
                .is_ok(),
            Check::RsaComponents(params, n, e) => sig::RsaPublicKeyComponents { n, e }
                .verify(params, msg, signature)
                .is_ok(),
        };
        ok.then_some(()).ok_or_else(signature::Error::new)
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let check = match (hmac_algorithm(*alg), key.kind()) {
        (Some(h), _) => Check::Hmac(hmac::Key::new(h, key.try_get_hmac_secret()?)),
        (None, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            let params = rsa_parameters(*alg).ok_or(ErrorKind::InvalidKeyFormat)?;
            Check::RsaComponents(params, n.clone(), e.clone())
        }
        (None, DecodingKeyKind::SecretOrDer(bytes)) => Check::Public(
            verification_algorithm(*alg).ok_or(ErrorKind::InvalidKeyFormat)?,
            bytes.clone(),
        ),
    };
    Ok(Box::new(RingVerifier { alg: *alg, check }))
}

/// What a signature is made with: the parsed private key.
enum Sign {
    Hmac(hmac::Key),
    Ecdsa(sig::EcdsaKeyPair),
    Rsa(sig::RsaKeyPair, &'static dyn sig::RsaEncoding),
    Ed25519(sig::Ed25519KeyPair),
}

struct RingSigner {
    alg: Algorithm,
    key: Sign,
}

impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &self.key {
            Sign::Hmac(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
            Sign::Ecdsa(pair) => pair
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
            Sign::Rsa(pair, padding) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(*padding, &rng, msg, &mut out)
                    .map_err(|_| signature::Error::new())?;
                Ok(out)
            }
            Sign::Ed25519(pair) => Ok(pair.sign(msg).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

/// `EncodingKey` holds the HMAC secret, PKCS#8 DER for EC and Ed25519 keys, and PKCS#1 DER
/// (`RSAPrivateKey`) for RSA keys, as its constructors document.
fn new_signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    let der = key.inner();
    let key = if let Some(h) = hmac_algorithm(*alg) {
        Sign::Hmac(hmac::Key::new(h, key.try_get_hmac_secret()?))
    } else if let Some(signing) = ecdsa_signing(*alg) {
        let pair = sig::EcdsaKeyPair::from_pkcs8(signing, der, &SystemRandom::new())
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
        Sign::Ecdsa(pair)
    } else if let Some(padding) = rsa_encoding(*alg) {
        let pair =
            sig::RsaKeyPair::from_der(der).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
        Sign::Rsa(pair, padding)
    } else {
        let pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| ErrorKind::InvalidEddsaKey)?;
        Sign::Ed25519(pair)
    };
    Ok(Box::new(RingSigner { alg: *alg, key }))
}

fn hmac_algorithm(alg: Algorithm) -> Option<hmac::Algorithm> {
    match alg {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// RSA verification parameters. ring refuses moduli under 2048 bits, which RFC 7518 §3.3
/// already requires of RS*/PS* keys.
fn rsa_parameters(alg: Algorithm) -> Option<&'static sig::RsaParameters> {
    match alg {
        Algorithm::RS256 => Some(&sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => Some(&sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => Some(&sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => Some(&sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => Some(&sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => Some(&sig::RSA_PSS_2048_8192_SHA512),
        _ => None,
    }
}

fn verification_algorithm(alg: Algorithm) -> Option<&'static dyn sig::VerificationAlgorithm> {
    match alg {
        Algorithm::ES256 => Some(&sig::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => Some(&sig::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => Some(&sig::ED25519),
        _ => rsa_parameters(alg).map(|p| p as &'static dyn sig::VerificationAlgorithm),
    }
}

fn ecdsa_signing(alg: Algorithm) -> Option<&'static sig::EcdsaSigningAlgorithm> {
    match alg {
        Algorithm::ES256 => Some(&sig::ECDSA_P256_SHA256_FIXED_SIGNING),
        Algorithm::ES384 => Some(&sig::ECDSA_P384_SHA384_FIXED_SIGNING),
        _ => None,
    }
}

fn rsa_encoding(alg: Algorithm) -> Option<&'static dyn sig::RsaEncoding> {
    match alg {
        Algorithm::RS256 => Some(&sig::RSA_PKCS1_SHA256),
        Algorithm::RS384 => Some(&sig::RSA_PKCS1_SHA384),
        Algorithm::RS512 => Some(&sig::RSA_PKCS1_SHA512),
        Algorithm::PS256 => Some(&sig::RSA_PSS_SHA256),
        Algorithm::PS384 => Some(&sig::RSA_PSS_SHA384),
        Algorithm::PS512 => Some(&sig::RSA_PSS_SHA512),
        _ => None,
    }
}

/// For `Jwk::from_encoding_key`: the public `n` and `e` of a PKCS#1 DER private key.
fn extract_rsa_public_key_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let pair =
        sig::RsaKeyPair::from_der(der).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
    let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((public.n, public.e))
}

/// For `Jwk::from_encoding_key`: the curve and public point of a PKCS#8 EC private key.
fn extract_ec_public_key_coordinates(
    der: &[u8],
    alg: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    let (signing, curve) = match alg {
        Algorithm::ES256 => (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, EllipticCurve::P256),
        Algorithm::ES384 => (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, EllipticCurve::P384),
        _ => return Err(ErrorKind::InvalidEcdsaKey.into()),
    };
    let pair = sig::EcdsaKeyPair::from_pkcs8(signing, der, &SystemRandom::new())
        .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    // An uncompressed point: 0x04, then x and y of equal length.
    match pair.public_key().as_ref().split_first() {
        Some((4, xy)) => {
            let (x, y) = xy.split_at(xy.len() / 2);
            Ok((curve, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

/// For JWK thumbprints (RFC 7638).
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
    let alg = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
    };
    digest::digest(alg, data).as_ref().to_vec()
}

#[cfg(test)]
mod tests;
