//! The `torg` command.

/// mimalloc instead of the system allocator: a request allocates many small, short-lived objects
/// (rows, JSON values), and glibc's malloc spent about a sixth of a request's CPU on them (perf, in
/// docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    torg::cli::main().await
}
