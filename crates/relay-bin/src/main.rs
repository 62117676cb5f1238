//! The `kick-relay` binary. The service itself lands with the relay-bin issue; until then the
//! command exists and says plainly that it is not built yet.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "kick-relay: the relay service is not built yet.\n\
         The libraries kick-models and kick-verify are ready; `kick-relay serve` (ingest, \
         SQLite store, delivery) arrives with the relay-bin work. See README.md."
    );
    ExitCode::from(2)
}
