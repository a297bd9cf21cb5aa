//! The `torg` command.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    torg::cli::main().await
}
