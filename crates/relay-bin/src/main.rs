//! The `kick-relay` binary.

/// mimalloc instead of glibc's malloc: a fully relayed event costs ~3.5 % fewer instructions
/// (`relay-bench instructions`) and ~5 % less CPU on a pinned core, for ~15 MB more peak RSS
/// (docs/benchmarks/FINDINGS.md, finding 25).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    relay_bin::cli::main()
}
