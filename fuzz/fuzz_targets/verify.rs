//! Signature verification on arbitrary parts: never panics, never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = kick_verify::PublicKey::kick().expect("Kick's key parses");
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\u{1f}');
    let (id, ts, sig) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let body = parts.next().unwrap_or("").as_bytes();
    for backend in kick_verify::Backend::ALL {
        let message = kick_verify::SignedMessage {
            message_id: id,
            timestamp: ts,
            body,
            signature_b64: sig,
        };
        assert!(key.clone().with_backend(*backend).verify(&message).is_err());
    }
    let _ = kick_verify::check_freshness(ts, 1_700_000_000, std::time::Duration::from_secs(600));
    let _ = kick_verify::PublicKey::from_pem(&text);
});
