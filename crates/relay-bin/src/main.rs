//! The `kick-relay` binary.

fn main() -> std::process::ExitCode {
    relay_bin::cli::main()
}
