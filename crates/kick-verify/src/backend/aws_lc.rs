//! aws-lc-rs backend.

use aws_lc_rs::{
    digest,
    signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256},
};

use crate::{KeyError, SignedMessage, VerifyError};

/// A key parsed once by AWS-LC, so that verification does no key parsing.
#[derive(Clone)]
pub(crate) struct Key(ParsedPublicKey);

impl Key {
    /// `pkcs1_der` is the DER `RSAPublicKey` (PKCS#1) of an already validated key.
    pub(crate) fn new(pkcs1_der: &[u8]) -> Result<Self, KeyError> {
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1_der)
            .map(Self)
            .map_err(|rejected| KeyError::Rejected(rejected.description_()))
    }

    pub(crate) fn verify(
        &self,
        message: &SignedMessage<'_>,
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let mut context = digest::Context::new(&digest::SHA256);
        for part in message.signed_parts() {
            context.update(part);
        }
        self.0
            .verify_digest_sig(&context.finish(), signature)
            .map_err(|_| VerifyError::BadSignature)
    }
}
