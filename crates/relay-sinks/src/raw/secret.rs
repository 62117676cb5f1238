//! Standard Webhooks signing for Raw outputs.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ConfigError;

/// A Standard Webhooks signing secret: `whsec_` followed by the Base64 of 24 to 64 random bytes.
/// `Debug` never shows it.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`.
    ///
    /// # Errors
    /// [`ConfigError::Secret`] saying what is wrong (the secret itself is never repeated).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let encoded = text.trim().strip_prefix("whsec_").ok_or_else(|| {
            ConfigError::Secret(
                "must start with whsec_ followed by Base64 (e.g. whsec_ + `openssl rand -base64 32`)"
                    .into(),
            )
        })?;
        let key = STANDARD.decode(encoded).map_err(|_| {
            ConfigError::Secret("the part after whsec_ is not standard Base64".into())
        })?;
        if !(24..=64).contains(&key.len()) {
            return Err(ConfigError::Secret(format!(
                "decodes to {} bytes; Standard Webhooks secrets are 24 to 64 bytes",
                key.len()
            )));
        }
        Ok(Self { key })
    }

    /// `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`: the `webhook-signature` value.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes keys of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}
