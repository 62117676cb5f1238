//! Payload parsing for every event type: never panics; what parses re-serialises.
#![no_main]

use kick_models::{EventType, KickEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let event_type = EventType::KNOWN
        .get(usize::from(selector) % (EventType::KNOWN.len() + 1))
        .cloned()
        .unwrap_or_else(|| EventType::from("x.unknown"));
    if let Ok(event) = KickEvent::from_parts(&event_type, "1", body) {
        let _ = serde_json::to_vec(&event);
        if let KickEvent::ChatMessageSent(chat) = &event {
            let _ = chat.plain_text();
        }
    }
});
