//! The `torg` command.

/// mimalloc instead of the system allocator: a request allocates many small, short-lived objects
/// (rows, JSON values), and glibc's malloc spent about a sixth of a request's CPU on them (perf, in
/// docs/BENCHMARKS.md). The workspace builds it with `override`, so it is also the process's `malloc`
/// and serves SQLite's allocations (a fifth of a list page's time went to glibc's under them).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    torg::cli::main().await
}
