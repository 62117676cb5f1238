//! `WebhookHeaders::from_pairs` on arbitrary header lists: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Lines of `name:value`, bytes as they come.
    let pairs: Vec<(String, Vec<u8>)> = data
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let at = line.iter().position(|b| *b == b':')?;
            Some((
                String::from_utf8_lossy(&line[..at]).into_owned(),
                line[at + 1..].to_vec(),
            ))
        })
        .collect();
    let _ = kick_models::WebhookHeaders::from_pairs(pairs);
});
