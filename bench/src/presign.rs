//! Pre-signed, distinct, realistic deliveries (cached between runs).

use std::{io::Write as _, path::Path};

use anyhow::Context;
use aws_lc_rs::{
    rand::SystemRandom,
    signature::{RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::Engine as _;
use kick_models::EventType;
use serde::{Deserialize, Serialize};

/// One ready-to-send delivery.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct Signed {
    pub(crate) message_id: String,
    pub(crate) timestamp: String,
    pub(crate) event_type: String,
    pub(crate) signature: String,
    pub(crate) body: String,
}

impl Signed {
    /// A POST of this delivery to `url` with the headers Kick sends.
    pub(crate) fn post(&self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Kick-Event-Message-Id", &self.message_id)
            .header("Kick-Event-Subscription-Id", "01BENCHSUBSCRIPTION0000000")
            .header("Kick-Event-Signature", &self.signature)
            .header("Kick-Event-Message-Timestamp", &self.timestamp)
            .header("Kick-Event-Type", &self.event_type)
            .header("Kick-Event-Version", "1")
            .body(self.body.clone())
    }
}

/// The mix: 7 in 10 chat messages, the rest cycling through the nine other types.
fn event_for(n: u64) -> EventType {
    let others = &EventType::KNOWN[1..];
    if n % 10 < 7 {
        EventType::ChatMessageSent
    } else {
        others[usize::try_from(n / 10 % 9).unwrap_or(0) % others.len()].clone()
    }
}

fn pem_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
}

/// `count` deliveries (`chat_only`: all chat), cached in `cache`.
///
/// # Errors
/// Key or file problems.
pub(crate) fn load_or_make(
    private_pem: &Path,
    cache: &Path,
    count: u64,
    chat_only: bool,
) -> anyhow::Result<Vec<Signed>> {
    if let Ok(text) = std::fs::read_to_string(cache) {
        let cached: Vec<Signed> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let current = cached
            .first()
            .is_some_and(|s| s.message_id.starts_with(MESSAGE_ID_PREFIX));
        if current && cached.len() as u64 >= count {
            return Ok(cached);
        }
    }
    let pem = std::fs::read_to_string(private_pem)
        .with_context(|| format!("read {}", private_pem.display()))?;
    let key =
        RsaKeyPair::from_pkcs8(&pem_der(&pem)?).map_err(|e| anyhow::anyhow!("bench key: {e}"))?;
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get) as u64;
    let signed: Vec<Signed> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let key = &key;
                scope.spawn(move || {
                    let rng = SystemRandom::new();
                    let mut out = Vec::new();
                    let mut n = t;
                    while n < count {
                        out.push(sign_one(key, &rng, n, chat_only));
                        n += threads;
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(cache)?);
    for s in &signed {
        serde_json::to_writer(&mut file, s)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(signed)
}

/// How the message ids of this generation of sets begin: a cached set whose ids do not is
/// of an earlier generator (sequential chat ids) and is made again.
const MESSAGE_ID_PREFIX: &str = "01BENCHR";

/// A UUID v4 whose bits are a fixed function of `n` (splitmix64): random-looking, reproducible.
fn uuid_v4_like(n: u64) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (hi, lo) = (mix(2 * n), mix(2 * n + 1));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | (lo >> 48) & 0x3fff,
        lo & 0xffff_ffff_ffff
    )
}

fn sign_one(key: &RsaKeyPair, rng: &SystemRandom, n: u64, chat_only: bool) -> Signed {
    let event_type = if chat_only {
        EventType::ChatMessageSent
    } else {
        event_for(n)
    };
    let timestamp = "2026-11-23T18:00:00.000Z".to_owned();
    // Distinct within a set (n), the same across runs so the cached set stays valid, and
    // spread like Kick's (random UUID v4 chat message ids): sequential ones would land in
    // one corner of the store's key index and hide what a random insert costs there.
    let unique = uuid_v4_like(n);
    let mut body =
        relay_bin::samples::body(&event_type, n, &unique, &timestamp).unwrap_or_default();
    if chat_only {
        // The chat set is the one kickcom.py is compared on: its parser fails on Kick's real
        // `emotes: null` and `replies_to: null`, so this set uses the documented shapes.
        body["emotes"] = serde_json::json!([]);
        if let Some(object) = body.as_object_mut() {
            object.remove("replies_to");
        }
    }
    if event_type == EventType::ChatMessageSent {
        // Chat lines of varied length: bodies from about 600 to 2000 bytes.
        let extra = usize::try_from(n * 37 % 1400).unwrap_or(0);
        let content = format!(
            "{} {}",
            body["content"].as_str().unwrap_or_default(),
            "lorem ipsum ".repeat(extra / 12)
        );
        body["content"] = content.into();
    }
    let body = body.to_string();
    let message_id = format!("{MESSAGE_ID_PREFIX}{n:018}");
    let signed = [
        message_id.as_bytes(),
        b".",
        timestamp.as_bytes(),
        b".",
        body.as_bytes(),
    ]
    .concat();
    let mut signature = vec![0_u8; key.public_modulus_len()];
    let _ = key.sign(&RSA_PKCS1_SHA256, rng, &signed, &mut signature);
    Signed {
        message_id,
        timestamp,
        event_type: event_type.as_str().to_owned(),
        signature: base64::engine::general_purpose::STANDARD.encode(signature),
        body,
    }
}
