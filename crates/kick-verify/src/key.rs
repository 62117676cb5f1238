//! `PublicKey`: parse a PEM once, verify many deliveries.

use std::fmt;

use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use rsa::{
    RsaPublicKey,
    pkcs1::DecodeRsaPublicKey,
    pkcs8::{DecodePublicKey, EncodePublicKey},
    traits::PublicKeyParts,
};
use sha2::{Digest, Sha256};

use crate::{Backend, KICK_PUBLIC_KEY_PEM, KeyError, SignedMessage, VerifyError, backend};

/// Smallest modulus accepted, in bits.
const MIN_BITS: usize = 2048;
/// Largest modulus accepted, in bits (the `rsa` crate's own limit).
const MAX_BITS: usize = 4096;
/// Largest signature, in bytes, for the largest key.
const MAX_SIGNATURE_BYTES: usize = MAX_BITS / 8;

/// Standard Base64 that accepts the signature with or without `=` padding.
const SIGNATURE_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An RSA public key (2048 to 4096 bits) that verifies Kick webhook signatures.
///
/// Parse it once with [`PublicKey::from_pem`] (or [`PublicKey::kick`] for Kick's published key)
/// and share it: verification takes `&self` and the type is `Send + Sync`.
///
/// `Debug` prints the key size, the SHA-256 fingerprint of its SubjectPublicKeyInfo DER and the
/// backend, never the modulus.
#[derive(Clone)]
pub struct PublicKey {
    rsa: backend::rust_crypto::Key,
    #[cfg(feature = "aws-lc-rs")]
    aws_lc: backend::aws_lc::Key,
    backend: Backend,
    bits: usize,
    fingerprint: [u8; 32],
}

impl PublicKey {
    /// Parses an RSA public key from PEM: SPKI (`-----BEGIN PUBLIC KEY-----`, what Kick
    /// publishes) or PKCS#1 (`-----BEGIN RSA PUBLIC KEY-----`). Surrounding white space and CRLF
    /// line ends are accepted. The key uses [`Backend::fastest`].
    ///
    /// # Errors
    /// A [`KeyError`] that says what is wrong with the text.
    ///
    /// # Examples
    /// ```
    /// let key = kick_verify::PublicKey::from_pem(kick_verify::KICK_PUBLIC_KEY_PEM)?;
    /// assert_eq!(key.bits(), 2048);
    /// # Ok::<(), kick_verify::KeyError>(())
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let rsa_key = parse_pem(pem)?;
        let bits = rsa_key.size().saturating_mul(8);
        if bits < MIN_BITS {
            return Err(KeyError::TooSmall { bits });
        }
        if bits > MAX_BITS {
            return Err(KeyError::TooLarge { bits });
        }
        let spki = rsa_key
            .to_public_key_der()
            .map_err(|_| KeyError::InvalidEncoding)?;
        let fingerprint: [u8; 32] = Sha256::digest(spki.as_bytes()).into();
        #[cfg(feature = "aws-lc-rs")]
        let aws_lc = {
            let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&rsa_key)
                .map_err(|_| KeyError::InvalidEncoding)?;
            backend::aws_lc::Key::new(pkcs1.as_bytes())?
        };
        Ok(Self {
            rsa: backend::rust_crypto::Key::new(rsa_key),
            #[cfg(feature = "aws-lc-rs")]
            aws_lc,
            backend: Backend::fastest(),
            bits,
            fingerprint,
        })
    }

    /// Kick's published webhook key ([`KICK_PUBLIC_KEY_PEM`]).
    ///
    /// # Errors
    /// None in practice (the constant is tested); a `Result` keeps this crate free of panics.
    pub fn kick() -> Result<Self, KeyError> {
        Self::from_pem(KICK_PUBLIC_KEY_PEM)
    }

    /// The same key, verifying with `backend` from now on.
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The backend [`PublicKey::verify`] uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// SHA-256 of the key's SubjectPublicKeyInfo DER: the same fingerprint as
    /// `openssl pkey -pubin -outform DER | sha256sum`.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// [`PublicKey::fingerprint`] as lowercase hex.
    pub fn fingerprint_hex(&self) -> String {
        use fmt::Write as _;
        self.fingerprint
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }

    /// Verifies Kick's RSASSA-PKCS1-v1_5 / SHA-256 signature over
    /// `message_id + "." + timestamp + "." + body`. The signed string is hashed in pieces; the
    /// body is not copied.
    ///
    /// This checks only the signature. Check the timestamp window separately with
    /// [`crate::check_freshness`].
    ///
    /// # Errors
    /// [`VerifyError::MalformedSignature`] when the signature is not Base64 or has the wrong
    /// length; [`VerifyError::BadSignature`] (no detail) when it does not match.
    pub fn verify(&self, message: &SignedMessage<'_>) -> Result<(), VerifyError> {
        let mut buffer = [0_u8; MAX_SIGNATURE_BYTES];
        let signature = decode_signature(message.signature_b64, &mut buffer, self.bits / 8)?;
        match self.backend {
            Backend::RustCrypto => self.rsa.verify(message, signature),
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => self.aws_lc.verify(message, signature),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits)
            .field("spki_sha256", &self.fingerprint_hex())
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Decodes the Base64 signature into `buffer`, requiring exactly `expected_len` bytes.
fn decode_signature<'b>(
    signature_b64: &str,
    buffer: &'b mut [u8; MAX_SIGNATURE_BYTES],
    expected_len: usize,
) -> Result<&'b [u8], VerifyError> {
    let text = signature_b64.trim_ascii();
    // Base64 of the largest signature is 684 characters; refuse anything longer before decoding.
    if text.len() > MAX_SIGNATURE_BYTES.div_ceil(3) * 4 {
        return Err(VerifyError::MalformedSignature);
    }
    let len = SIGNATURE_BASE64
        .decode_slice(text, buffer)
        .map_err(|_| VerifyError::MalformedSignature)?;
    if len != expected_len {
        return Err(VerifyError::MalformedSignature);
    }
    buffer.get(..len).ok_or(VerifyError::MalformedSignature)
}

/// Parses SPKI or PKCS#1 PEM text with the `rsa` crate.
fn parse_pem(pem: &str) -> Result<RsaPublicKey, KeyError> {
    let text = pem.trim();
    let begins = |label: &str| text.starts_with(&format!("-----BEGIN {label}-----"));
    if begins("PUBLIC KEY") {
        RsaPublicKey::from_public_key_pem(text).map_err(|_| KeyError::InvalidEncoding)
    } else if begins("RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(text).map_err(|_| KeyError::InvalidEncoding)
    } else if text.starts_with("-----BEGIN")
        && text
            .lines()
            .next()
            .is_some_and(|line| line.contains("PRIVATE KEY"))
    {
        Err(KeyError::PrivateKey)
    } else {
        Err(KeyError::NotPem)
    }
}
