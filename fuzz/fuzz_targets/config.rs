//! Config parsing and validation of arbitrary files: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("kick-relay-fuzz-{}.toml", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = relay_bin::config::Config::load(Some(&path));
    }
});
