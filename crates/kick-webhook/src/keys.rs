//! Kick's public key: configured or built in, refreshed from the API when signatures fail
//! (at most once a minute, one caller at a time).

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use kick_verify::{PublicKey, SignedMessage, VerifyError};
use tokio::{sync::Mutex, time::Instant};

/// Least time between two refreshes.
const REFRESH_INTERVAL: Duration = Duration::from_mins(1);

/// The key a receiver verifies with, and where a fresh one comes from.
#[derive(Debug)]
pub struct KeyStore {
    current: RwLock<Arc<PublicKey>>,
    client: Option<kick_api::KickClient>,
    last_refresh: Mutex<Option<Instant>>,
}

impl KeyStore {
    /// A store with `key`, refreshing through `client` when given.
    pub fn new(key: PublicKey, client: Option<kick_api::KickClient>) -> Self {
        Self {
            current: RwLock::new(Arc::new(key)),
            client,
            last_refresh: Mutex::new(None),
        }
    }

    /// The key in use.
    pub fn current(&self) -> Arc<PublicKey> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Verifies; on a bad signature, refreshes the key (at most once a minute, one caller at a
    /// time) and, when the key changed, verifies once more.
    ///
    /// # Errors
    /// The verification error that stands.
    pub async fn verify(&self, message: &SignedMessage<'_>) -> Result<(), VerifyError> {
        let key = self.current();
        let Err(error) = key.verify(message) else {
            return Ok(());
        };
        if error != VerifyError::BadSignature || !self.refresh(&key).await {
            return Err(error);
        }
        self.current().verify(message)
    }

    /// Fetches the key once if allowed; returns whether a different key is now in use.
    async fn refresh(&self, seen: &Arc<PublicKey>) -> bool {
        let Some(client) = &self.client else {
            return false;
        };
        let mut last = self.last_refresh.lock().await;
        if self.current().fingerprint() != seen.fingerprint() {
            return true; // another request refreshed while we waited
        }
        if last.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        match client.public_key().await {
            Ok(pem) => match PublicKey::from_pem(&pem) {
                Ok(fresh) if fresh.fingerprint() != seen.fingerprint() => {
                    tracing::warn!(old = %seen.fingerprint_hex(), new = %fresh.fingerprint_hex(), "Kick's public key changed; using the new one");
                    *self
                        .current
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh);
                    true
                }
                Ok(_) => false,
                Err(err) => {
                    tracing::warn!(error = %err, "Kick's public-key endpoint returned an unusable key");
                    false
                }
            },
            Err(err) => {
                tracing::warn!(error = %with_causes(&err), "could not refresh Kick's public key");
                false
            }
        }
    }
}

/// An error and its sources, `: `-separated.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}
