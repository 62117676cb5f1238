//! Errors: descriptive for keys and timestamps, opaque for a bad signature.

use std::fmt;

/// A public key was refused. The message says what was wrong and how to fix it.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) block.
    NotPem,
    /// The PEM block is a private key. Only the public half belongs in a verifier.
    PrivateKey,
    /// The PEM block parsed, but the DER inside is not an RSA public key.
    InvalidEncoding,
    /// The RSA modulus is shorter than 2048 bits.
    TooSmall {
        /// The modulus size found, in bits.
        bits: usize,
    },
    /// The RSA modulus is longer than 4096 bits (the most the pure-Rust `rsa` crate accepts).
    TooLarge {
        /// The modulus size found, in bits.
        bits: usize,
    },
    /// The fast backend refused a key the pure-Rust parser accepted (for example an unusual
    /// public exponent).
    Rejected(&'static str),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPem => f.write_str(
                "not a PEM public key: expected a \"-----BEGIN PUBLIC KEY-----\" (SPKI) or \
                 \"-----BEGIN RSA PUBLIC KEY-----\" (PKCS#1) block, such as Kick's key from \
                 GET /public/v1/public-key",
            ),
            Self::PrivateKey => f.write_str(
                "this PEM holds a private key; give the verifier the public key only \
                 (openssl pkey -in private.pem -pubout)",
            ),
            Self::InvalidEncoding => {
                f.write_str("the PEM block does not contain a valid RSA public key (bad DER)")
            }
            Self::TooSmall { bits } => {
                write!(
                    f,
                    "RSA key of {bits} bits is too small: at least 2048 bits are required"
                )
            }
            Self::TooLarge { bits } => {
                write!(
                    f,
                    "RSA key of {bits} bits is too large: at most 4096 bits are supported"
                )
            }
            Self::Rejected(why) => write!(f, "the RSA public key was rejected: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A signature did not verify.
///
/// [`VerifyError::BadSignature`] carries no detail by design: a caller learns only that the
/// delivery did not come from the key holder.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature header is not standard Base64, or decodes to the wrong length for the key.
    MalformedSignature,
    /// The signature does not match the message under this key.
    BadSignature,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedSignature => {
                "malformed signature: Kick-Event-Signature must be the standard Base64 of a \
                 signature as long as the key"
            }
            Self::BadSignature => "bad signature",
        })
    }
}

impl std::error::Error for VerifyError {}

/// A timestamp failed the freshness check.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum FreshnessError {
    /// The value is not an RFC 3339 date-time (e.g. `2025-02-21T23:23:36Z`).
    Unparseable,
    /// The timestamp is older than the window allows.
    TooOld {
        /// How many seconds before `now` it lies.
        age_secs: u64,
        /// The oldest the window takes, in seconds.
        max_secs: u64,
    },
    /// The timestamp lies further in the future than the window allows.
    InFuture {
        /// How many seconds after `now` it lies.
        ahead_secs: u64,
        /// The furthest ahead the window takes, in seconds.
        max_secs: u64,
    },
}

impl fmt::Display for FreshnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparseable => f.write_str(
                "timestamp is not RFC 3339 (expected a value like 2025-02-21T23:23:36Z)",
            ),
            Self::TooOld { age_secs, max_secs } => write!(
                f,
                "timestamp is stale: {age_secs} s old, {} s more than the {max_secs} s allowed",
                age_secs.saturating_sub(*max_secs)
            ),
            Self::InFuture {
                ahead_secs,
                max_secs,
            } => write!(
                f,
                "timestamp is {ahead_secs} s in the future, {} s more than the {max_secs} s \
                 allowed (check the clock)",
                ahead_secs.saturating_sub(*max_secs)
            ),
        }
    }
}

impl std::error::Error for FreshnessError {}
