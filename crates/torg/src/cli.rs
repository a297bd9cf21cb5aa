//! The command line: `serve`, `migrate`, `demo`, `key create|list|corporate|revoke`, and the rest (README.md).

use crate::config::{DEFAULT_SHUTDOWN_GRACE_SECS, FileConfig, LogFormat};
use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::net::TcpListener;
use torg_domain::key::{ALL_SCOPES, KeyOwner, SiteAccess, validate_scope};
use torg_http::{AppState, HttpConfig};
use torg_store::{NewKey, Store};

/// torg: one commerce backend speaking RetailCRM v5 and its neighbours' dialects.
#[derive(Debug, Parser)]
#[command(name = "torg", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr: `text` (coloured only when stderr is a terminal) or `json` (one object a
    /// line) [default: text, or the config file's `log_format`].
    #[arg(long, env = "TORG_LOG_FORMAT", global = true, value_enum)]
    log_format: Option<LogFormat>,
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database: `sqlite:PATH` (created on first run) or `postgres://…`.
    #[arg(long, env = "TORG_DATABASE_URL", default_value = "sqlite:torg.db", global = true)]
    database: String,
}

impl DbArgs {
    /// The database URL.
    pub fn url(&self) -> &str {
        &self.database
    }
}

/// Options of the commands that serve.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (printed on start).
    #[arg(long, env = "TORG_LISTEN")]
    listen: Option<String>,
    /// Redis URL: rate limits then hold across every instance sharing it.
    #[arg(long, env = "TORG_REDIS_URL")]
    redis: Option<String>,
    /// A TOML file with further settings (docs/CONFIG.md lists every key); flags and environment
    /// variables win over it.
    #[arg(long, env = "TORG_CONFIG")]
    config: Option<PathBuf>,
    /// Address of a second listener serving Prometheus metrics at `/metrics` (keep it private); none
    /// serves no metrics.
    #[arg(long, env = "TORG_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Seconds requests in flight get to finish after SIGTERM or SIGINT [default: 30].
    #[arg(long = "shutdown-grace", env = "TORG_SHUTDOWN_GRACE", value_name = "SECS")]
    shutdown_grace: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database and serve every face.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Bring the database schema up to date and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Fill an empty database with demo data, print keys and URLs to try, and serve.
    Demo {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bulk-load a catalogue or cross-references from a CSV file.
    Import {
        #[command(subcommand)]
        command: crate::import::ImportCommand,
    },
    /// Sites' settings.
    Site {
        #[command(subcommand)]
        command: crate::billing::SiteCommand,
    },
    /// Invoices (billing face).
    Invoice {
        #[command(subcommand)]
        command: crate::billing::InvoiceCommand,
    },
    /// Users (managers) and user groups.
    User {
        #[command(subcommand)]
        command: crate::users::UserCommand,
    },
    /// Loyalty programmes and customer segments, from JSON files.
    Define {
        #[command(subcommand)]
        command: crate::definitions::DefineCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key; the key alone is printed on the last line of stdout.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// Name to recognise the key by.
        #[arg(long)]
        name: String,
        /// A scope to grant (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Grant every scope.
        #[arg(long)]
        all_scopes: bool,
        /// A site the key reaches (repeat for several); none means every site.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// An address the key may be used from (repeat, at most 5); none means any.
        #[arg(long = "ip")]
        ips: Vec<IpAddr>,
        /// The customer (external id) the key buys as, for the parts face.
        #[arg(long)]
        customer: Option<String>,
        /// The distributor (code) the key acts for, for the office face.
        #[arg(long)]
        distributor: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Make a buyer's key order for a corporate customer its buyer is a contact person of (or, without
    /// `--corporate`, for the buyer alone again).
    Corporate {
        #[command(flatten)]
        db: DbArgs,
        /// Id or name of the key.
        key: String,
        /// External id of the corporate customer.
        #[arg(long)]
        corporate: Option<String>,
    },
    /// Revoke a key by id or name.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// Id or name of the key.
        key: String,
    },
}

/// Runs the command line; errors are printed and turn into exit code 1.
pub async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The config file can set the log format and the database of the serving commands; a file that
    // cannot be read is reported by the command itself.
    let file = cli.serve_args().and_then(|s| s.config.as_ref()).and_then(|p| FileConfig::read(p).ok());
    let log = init_tracing(cli.log_format.or(file.as_ref().and_then(|f| f.log_format)).unwrap_or_default());
    if let Some(database) = file.and_then(|f| f.database)
        && database_defaulted(&matches)
        && let Some(db) = cli.serve_db()
    {
        db.database = database;
    }
    let result = run(cli).await;
    // Every line logged so far reaches stderr before the error line and the exit.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    fn serve_args(&self) -> Option<&ServeArgs> {
        match &self.command {
            Command::Serve { serve, .. } | Command::Demo { serve, .. } => Some(serve),
            _ => None,
        }
    }

    fn serve_db(&mut self) -> Option<&mut DbArgs> {
        match &mut self.command {
            Command::Serve { db, .. } | Command::Demo { db, .. } => Some(db),
            _ => None,
        }
    }
}

/// Whether `--database` of the serving command was left to its default (neither flag nor variable).
fn database_defaulted(matches: &ArgMatches) -> bool {
    matches.subcommand().is_some_and(|(_, sub)| sub.value_source("database") == Some(ValueSource::DefaultValue))
}

/// Logs to stderr in `format`, filtered by `TORG_LOG`. Colour codes only reach a terminal: in a file,
/// a pipe or the journal they would be noise.
///
/// Lines are written by a thread of their own ([`crate::log_writer`]), so a request's log line costs
/// its thread a formatted line appended to a buffer, not a `write(2)` under stderr's lock nor a
/// wake-up of the writing thread: the writer takes every line waiting every 20 ms and writes them in
/// one `write(2)`. Nothing is dropped; the returned guard writes out what is left when dropped. Where
/// no thread can be started, lines are written to stderr by the thread that logs them.
fn init_tracing(format: LogFormat) -> Option<crate::log_writer::PacedGuard> {
    let (writer, guard) = match crate::log_writer::paced(std::io::stderr(), "torg-log") {
        Ok((writer, guard)) => (tracing_subscriber::fmt::writer::BoxMakeWriter::new(writer), Some(guard)),
        Err(_) => (tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr), None),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TORG_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
    };
    guard
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { db, serve } => {
            let store = open(&db.database).await?;
            serve_until_signal(store, serve, None).await
        }
        Command::Migrate { db } => {
            open(&db.database).await?;
            println!("database {} is up to date", torg_store::redact(&db.database));
            Ok(())
        }
        Command::Demo { db, serve } => {
            let store = open(&db.database).await?;
            let report = crate::demo::load(&store).await?;
            serve_until_signal(store, serve, Some(report)).await
        }
        Command::Key { command } => key(command).await,
        Command::Import { command } => crate::import::run(command).await,
        Command::Site { command } => crate::billing::site(command).await,
        Command::Invoice { command } => crate::billing::invoice(command).await,
        Command::User { command } => crate::users::run(command).await,
        Command::Define { command } => crate::definitions::run(command).await,
    }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).await.with_context(|| format!("cannot open database {}", torg_store::redact(url)))
}

/// Builds the HTTP settings from the config file and flags.
fn http_config(serve: &ServeArgs, listen: &str) -> anyhow::Result<(HttpConfig, FileConfig)> {
    let file = match &serve.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let mut http = file.http(listen)?;
    http.redis_url = serve.redis.clone().or(file.redis.clone());
    Ok((http, file))
}

async fn serve_until_signal(store: Store, serve: ServeArgs, demo: Option<crate::demo::Report>) -> anyhow::Result<()> {
    let file = match &serve.config {
        Some(path) => FileConfig::read(path)?,
        None => FileConfig::default(),
    };
    let listen = serve.listen.clone().or(file.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let metrics_listen = serve.metrics_listen.clone().or(file.metrics_listen.clone());
    let metrics_listener = match &metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await.with_context(|| format!("cannot listen on {at} for metrics"))?),
        None => None,
    };
    let grace = std::time::Duration::from_secs(
        serve.shutdown_grace.or(file.shutdown_grace_secs).unwrap_or(DEFAULT_SHUTDOWN_GRACE_SECS),
    );
    let (mut http, _) = http_config(&serve, &addr.to_string())?;
    if serve.listen.as_deref().is_some_and(|l| l.ends_with(":0")) || file.public_url.is_none() {
        http.public_url = format!("http://{addr}");
    }
    let state = AppState::new(store, http).await.map_err(anyhow::Error::msg)?;
    if let Some(report) = demo {
        report.print(&format!("http://{addr}"));
    }
    // One signal stops both listeners and the webhook worker.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let metrics = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            let handle = torg_http::telemetry::install();
            println!("torg metrics on http://{at}/metrics");
            tracing::info!(addr = %at, "serving metrics");
            let (state, shutdown) = (state.clone(), until_stopped(stopped.clone()));
            Some(tokio::spawn(torg_http::telemetry::serve(listener, state, handle, shutdown)))
        }
        None => None,
    };
    println!("torg listening on http://{addr}");
    tracing::info!(addr = %addr, "serving");
    let worker = tokio::spawn(torg_http::webhooks::run(state.clone(), Default::default(), stopped.clone()));
    let mut server = tokio::spawn(torg_http::serve(listener, state.clone(), until_stopped(stopped)));
    let signal = tokio::select! {
        signal = shutdown_signal() => signal?,
        // The server ended by itself: an error of the listener.
        ended = &mut server => {
            let _ = stop.send(true);
            ended??;
            anyhow::bail!("the server stopped by itself");
        }
    };
    tracing::info!(signal, grace_secs = grace.as_secs(), "stopping: no new connections, finishing requests in flight");
    let _ = stop.send(true);
    // Requests in flight finish, bounded by the grace period (a second signal cuts it short); the
    // webhook worker hands its unsent claims back within the same time.
    let deadline = tokio::time::Instant::now() + grace;
    tokio::select! {
        ended = &mut server => ended??,
        () = tokio::time::sleep_until(deadline) => {
            tracing::warn!("requests still in flight at the end of the grace period are cut");
            server.abort();
        }
        _ = shutdown_signal() => {
            tracing::warn!("second signal: requests still in flight are cut");
            server.abort();
        }
    }
    if tokio::time::timeout_at(deadline, worker).await.is_err() {
        tracing::warn!("the webhook worker did not stop in time; its claims lapse with their lease");
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM (a service manager's stop) or SIGINT (Ctrl-C); returns which came.
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("cannot watch for Ctrl-C")?;
        Ok("SIGINT")
    }
}

async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { db, name, scopes, all_scopes, sites, ips, customer, distributor } => {
            let store = open(&db.database).await?;
            let scopes: Vec<String> =
                if all_scopes { ALL_SCOPES.iter().map(|s| (*s).to_string()).collect() } else { scopes };
            if scopes.is_empty() {
                anyhow::bail!("give at least one --scope, or --all-scopes");
            }
            for s in &scopes {
                validate_scope(s).map_err(anyhow::Error::msg)?;
            }
            if ips.len() > torg_domain::key::MAX_ALLOWED_IPS {
                anyhow::bail!("at most {} --ip addresses", torg_domain::key::MAX_ALLOWED_IPS);
            }
            let plain = crate::keys::generate();
            let key = store
                .create_key(NewKey {
                    plain: plain.clone(),
                    name,
                    scopes,
                    sites: if sites.is_empty() { SiteAccess::Full } else { SiteAccess::Selective(sites) },
                    allowed_ips: ips,
                    customer_external_id: customer,
                    distributor,
                })
                .await?;
            println!("created key {} ({}) with scopes: {}", key.id, key.name, key.scopes.join(" "));
            println!("{plain}");
            Ok(())
        }
        KeyCommand::List { db } => {
            let store = open(&db.database).await?;
            for k in store.list_keys().await? {
                let sites = match &k.sites {
                    SiteAccess::Full => "all sites".to_string(),
                    SiteAccess::Selective(s) => s.join(","),
                };
                let owner = match &k.owner {
                    Some(KeyOwner::Customer(id)) => match k.corporate_id {
                        Some(c) => format!(" customer={id} corporate={c}"),
                        None => format!(" customer={id}"),
                    },
                    Some(KeyOwner::Distributor(d)) => format!(" distributor={d}"),
                    None => String::new(),
                };
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}…\t{}\t{}\t[{}]{}",
                    k.id,
                    k.name,
                    k.prefix,
                    state,
                    sites,
                    k.scopes.join(" "),
                    owner
                );
            }
            Ok(())
        }
        KeyCommand::Corporate { db, key, corporate } => {
            let store = open(&db.database).await?;
            store.set_key_corporate(&key, corporate.as_deref()).await?;
            match corporate {
                Some(c) => println!("key {key} orders for corporate customer {c}"),
                None => println!("key {key} orders for its buyer"),
            }
            Ok(())
        }
        KeyCommand::Revoke { db, key } => {
            let store = open(&db.database).await?;
            match store.revoke_key(&key).await? {
                0 => anyhow::bail!("no active key with id or name '{key}'"),
                n => {
                    println!("revoked {n} key(s)");
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// `torg --help` and every subcommand's help describe every command and option.
    #[test]
    fn every_command_and_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none_or(|a| a.to_string().trim().is_empty()) {
                    missing.push(sub_path.clone());
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "torg", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
    }

    /// The serving commands' flags and variables are the ones docs/CONFIG.md lists, with its defaults.
    #[test]
    fn serve_flags_match_the_settings_table() {
        let cli = super::Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve");
        let mut seen = Vec::new();
        for arg in serve.get_arguments().chain(cli.get_arguments()) {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let flag = format!("--{long}");
            let setting = crate::config::SETTINGS
                .iter()
                .find(|s| s.flag == Some(flag.as_str()))
                .unwrap_or_else(|| panic!("{flag} is not in SETTINGS"));
            assert_eq!(arg.get_env().and_then(|e| e.to_str()), setting.env, "{flag}'s variable");
            if let Some(default) = arg.get_default_values().first() {
                assert_eq!(default.to_str(), Some(setting.default), "{flag}'s default");
            }
            seen.push(flag);
        }
        for s in crate::config::SETTINGS.iter().filter_map(|s| s.flag) {
            assert!(seen.iter().any(|f| f == s), "{s} is listed but serve has no such flag");
        }
    }
}
