//! `kick-relay send-test`: Kick-shaped samples, signed like Kick signs, posted to a relay.

use std::{path::Path, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use kick_models::EventType;

use crate::{clock, samples};

pub(super) async fn send_test(
    url: &str,
    key_path: &Path,
    event: &str,
    count: u64,
) -> anyhow::Result<ExitCode> {
    use base64::Engine as _;
    use rsa::{
        pkcs1v15::SigningKey,
        pkcs8::DecodePrivateKey,
        signature::{SignatureEncoding, Signer},
    };
    let event_type = EventType::from(event);
    if event_type.is_unknown() {
        bail!(
            "--event {event:?} is not a Kick event type; use one of: {}",
            EventType::KNOWN.map(|t| t.as_str().to_owned()).join(", ")
        );
    }
    let pem = std::fs::read_to_string(key_path)
        .with_context(|| format!("cannot read {}", key_path.display()))?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).with_context(|| {
        format!(
            "{} is not a PKCS#8 RSA private key (kick-relay keygen writes one)",
            key_path.display()
        )
    })?;
    let signer = SigningKey::<sha2::Sha256>::new(key);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut failures = 0;
    for n in 0..count {
        let now = clock::rfc3339(clock::now());
        let body = serde_json::to_vec(
            &samples::body(&event_type, n, &random_uuid(), &now)
                .context("no sample for this event")?,
        )?;
        let message_id = ulid_like();
        let signing_input = [message_id.as_bytes(), b".", now.as_bytes(), b".", &body].concat();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(signer.sign(&signing_input).to_vec());
        let response = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Kick-Event-Message-Id", &message_id)
            .header("Kick-Event-Subscription-Id", "01TESTSUBSCRIPTION00000000")
            .header("Kick-Event-Signature", signature)
            .header("Kick-Event-Message-Timestamp", &now)
            .header("Kick-Event-Type", event_type.as_str())
            .header("Kick-Event-Version", "1")
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                println!(
                    "{message_id} {event_type}: {} {}",
                    status.as_u16(),
                    text.trim()
                );
                if !status.is_success() {
                    failures += 1;
                }
            }
            Err(err) => {
                println!("{message_id} {event_type}: {}", err.without_url());
                failures += 1;
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A random (version 4) UUID, as Kick's chat message ids are.
fn random_uuid() -> String {
    use std::fmt::Write as _;

    use rsa::rand_core::RngCore;
    let mut bytes = [0_u8; 16];
    rsa::rand_core::OsRng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A 26-character Crockford Base32 id from the time and randomness (ULID-shaped).
fn ulid_like() -> String {
    use rsa::rand_core::RngCore;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut value = u128::try_from(clock::now_ms()).unwrap_or(0) << 80;
    let mut random = [0_u8; 10];
    rsa::rand_core::OsRng.fill_bytes(&mut random);
    let mut tail = [0_u8; 16];
    tail[6..].copy_from_slice(&random);
    value |= u128::from_be_bytes(tail);
    (0..26)
        .rev()
        .map(|i| char::from(ALPHABET[usize::try_from((value >> (i * 5)) & 31).unwrap_or(0)]))
        .collect()
}
