//! RustCrypto `rsa` backend.

use rsa::{
    RsaPublicKey,
    pkcs1v15::{Signature, VerifyingKey},
    signature::hazmat::PrehashVerifier,
};
use sha2::{Digest, Sha256};

use crate::{SignedMessage, VerifyError};

/// A parsed key for the `rsa` crate.
#[derive(Clone, Debug)]
pub(crate) struct Key(VerifyingKey<Sha256>);

impl Key {
    pub(crate) fn new(key: RsaPublicKey) -> Self {
        Self(VerifyingKey::new(key))
    }

    pub(crate) fn verify(
        &self,
        message: &SignedMessage<'_>,
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let mut hasher = Sha256::new();
        for part in message.signed_parts() {
            hasher.update(part);
        }
        let signature =
            Signature::try_from(signature).map_err(|_| VerifyError::MalformedSignature)?;
        self.0
            .verify_prehash(&hasher.finalize(), &signature)
            .map_err(|_| VerifyError::BadSignature)
    }
}
