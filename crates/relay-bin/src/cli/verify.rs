//! `kick-relay verify`: check a captured delivery offline.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use kick_models::WebhookHeaders;
use kick_verify::{PublicKey, SignedMessage};

use crate::config::Config;

/// Checks the delivery in `headers_path` and `body_path` against `--key`, else the key of the
/// configuration given with `--config` (`kick.public_key_file`), else Kick's published key.
pub(super) fn verify(
    key: Option<&Path>,
    config_path: Option<&Path>,
    headers_path: &Path,
    body_path: &Path,
) -> anyhow::Result<ExitCode> {
    let configured = match (key, config_path) {
        (None, Some(config_path)) => Config::load(Some(config_path))?.0.kick.public_key_file,
        _ => None,
    };
    let (key, named) = match key.or(configured.as_deref()) {
        Some(path) => (
            PublicKey::from_pem(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
            .with_context(|| format!("{}", path.display()))?,
            path.display().to_string(),
        ),
        None => (PublicKey::kick()?, "Kick's published key".to_owned()),
    };
    let text = std::fs::read_to_string(headers_path)
        .with_context(|| format!("cannot read {}", headers_path.display()))?;
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let headers =
        WebhookHeaders::from_pairs(pairs).with_context(|| format!("{}", headers_path.display()))?;
    let body =
        std::fs::read(body_path).with_context(|| format!("cannot read {}", body_path.display()))?;
    let signed = SignedMessage {
        message_id: &headers.meta.message_id,
        timestamp: headers.meta.timestamp.as_str(),
        body: &body,
        signature_b64: &headers.signature,
    };
    match key.verify(&signed) {
        Ok(()) => {
            println!(
                "valid: {} {} signed by key {} ({named})",
                headers.meta.event_type,
                headers.meta.message_id,
                key.fingerprint_hex()
            );
            match kick_models::KickEvent::from_parts(
                &headers.meta.event_type,
                &headers.meta.version,
                &body,
            ) {
                Ok(_) => println!(
                    "body parses as {} v{}",
                    headers.meta.event_type, headers.meta.version
                ),
                Err(err) => println!("body does not parse: {err}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("INVALID: {err} (key {}, {named})", key.fingerprint_hex());
            Ok(ExitCode::FAILURE)
        }
    }
}
