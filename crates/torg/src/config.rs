//! Configuration: defaults, then an optional TOML file, then environment variables and flags (clap
//! merges the last two).

use serde::Deserialize;
use std::path::Path;
use torg_domain::time::Zone;
use torg_http::HttpConfig;

/// Seconds requests in flight get after SIGTERM or SIGINT.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;

/// What a config file may set; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Database URL.
    pub database: Option<String>,
    /// Redis URL for cluster-wide rate limits.
    pub redis: Option<String>,
    /// IANA time zone for `Y-m-d H:i:s` on the wire.
    pub time_zone: Option<String>,
    /// Requests per second per IP (0 turns limits off).
    pub rate_per_second: Option<u32>,
    /// Requests per second per IP under `/api/telephony/`.
    pub telephony_rate_per_second: Option<u32>,
    /// Billing face: requests per key per window (0 turns the limit off).
    pub billing_per_key: Option<u32>,
    /// Billing face: requests per client IP per window (0 turns the limit off).
    pub billing_per_ip: Option<u32>,
    /// Billing face: the window, in seconds.
    pub billing_window_secs: Option<u32>,
    /// Largest request body in bytes.
    pub body_limit: Option<usize>,
    /// Largest uploaded file (CRM `files/upload`) in bytes.
    pub file_limit: Option<usize>,
    /// Memory for orders kept as the CRM face shows them, in bytes; 0 keeps none.
    pub shown_cache_bytes: Option<usize>,
    /// URL clients reach this server at.
    pub public_url: Option<String>,
    /// Address of the Prometheus `/metrics` listener; none serves no metrics.
    pub metrics_listen: Option<String>,
    /// Log format on stderr.
    pub log_format: Option<LogFormat>,
    /// Seconds to let requests in flight finish after SIGTERM or SIGINT.
    pub shutdown_grace_secs: Option<u64>,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// One setting of `torg serve`: where it can be given, its default and what it does. The table in
/// docs/CONFIG.md is rendered from [`SETTINGS`], and tests hold it, the config file's keys and the
/// command line's flags to each other.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Key in the TOML config file.
    pub key: Option<&'static str>,
    /// Command-line flag.
    pub flag: Option<&'static str>,
    /// Environment variable.
    pub env: Option<&'static str>,
    /// Value when nothing sets it.
    pub default: &'static str,
    /// What it does.
    pub meaning: &'static str,
}

const fn setting(
    key: Option<&'static str>,
    flag: Option<&'static str>,
    env: Option<&'static str>,
    default: &'static str,
    meaning: &'static str,
) -> Setting {
    Setting { key, flag, env, default, meaning }
}

/// Every setting, in the order docs/CONFIG.md lists them. A flag or variable beats the file, which
/// beats the default.
pub const SETTINGS: &[Setting] = &[
    setting(None, Some("--config"), Some("TORG_CONFIG"), "none", "The TOML file the keys of this table are read from."),
    setting(
        Some("database"),
        Some("--database"),
        Some("TORG_DATABASE_URL"),
        "sqlite:torg.db",
        "Database: `sqlite:PATH` (created on first run) or `postgres://user:password@host/db`. \
         `sqlite:PATH?mmap_mb=N` reads the file through a memory map of up to N MiB per connection (off by \
         default; see below); `postgres://…/db?pool_max=N` keeps up to N connections to PostgreSQL \
         (1–1024, default 16; see below).",
    ),
    setting(
        Some("listen"),
        Some("--listen"),
        Some("TORG_LISTEN"),
        "127.0.0.1:8080",
        "Address of the public listener (every face); port 0 picks a free one, printed on start.",
    ),
    setting(
        Some("redis"),
        Some("--redis"),
        Some("TORG_REDIS_URL"),
        "none",
        "Redis URL: rate limits then hold across every instance sharing it; `/readyz` checks it.",
    ),
    setting(
        Some("metrics_listen"),
        Some("--metrics-listen"),
        Some("TORG_METRICS_LISTEN"),
        "none",
        "Address of a second listener serving Prometheus text at `/metrics`; none serves no metrics.",
    ),
    setting(
        Some("log_format"),
        Some("--log-format"),
        Some("TORG_LOG_FORMAT"),
        "text",
        "`text` (coloured only when stderr is a terminal) or `json` (one object a line).",
    ),
    setting(None, None, Some("TORG_LOG"), "info,sqlx=warn", "Log filter (`tracing` env-filter syntax), e.g. `debug`."),
    setting(
        Some("shutdown_grace_secs"),
        Some("--shutdown-grace"),
        Some("TORG_SHUTDOWN_GRACE"),
        "30",
        "Seconds requests in flight get to finish after SIGTERM or SIGINT before they are cut.",
    ),
    setting(Some("time_zone"), None, None, "Europe/Moscow", "IANA zone of `Y-m-d H:i:s` times on the wire."),
    setting(
        Some("rate_per_second"),
        None,
        None,
        "10",
        "Requests per second per client IP on the crm, parts and office faces and `/track`; 0 turns limits off.",
    ),
    setting(
        Some("telephony_rate_per_second"),
        None,
        None,
        "40",
        "Requests per second per client IP under `/api/v5/telephony/`.",
    ),
    setting(Some("billing_per_key"), None, None, "100", "Billing face: requests per key per window; 0 turns it off."),
    setting(
        Some("billing_per_ip"),
        None,
        None,
        "500",
        "Billing face: requests per client IP per window; 0 turns it off.",
    ),
    setting(Some("billing_window_secs"), None, None, "30", "Billing face: the window of its limits, in seconds."),
    setting(Some("body_limit"), None, None, "10485760", "Largest request body, in bytes."),
    setting(
        Some("file_limit"),
        None,
        None,
        "5242880",
        "Largest file the CRM face's `files/upload` keeps, in bytes; SQLite keeps files in `<database>.files/`.",
    ),
    setting(
        Some("shown_cache_bytes"),
        None,
        None,
        "67108864",
        "Memory for orders kept as the CRM face shows them (checked against the database on every read; an eighth rendered, the rest packed), in bytes; 0 keeps none.",
    ),
    setting(
        Some("public_url"),
        None,
        None,
        "http://LISTEN",
        "The URL clients reach torg at (payment links, `/api/system-info`); behind a proxy, set it.",
    ),
];

/// The settings table of docs/CONFIG.md, rendered from [`SETTINGS`].
pub fn reference_table() -> String {
    let cell = |v: Option<&str>| v.map_or_else(|| "—".to_string(), |v| format!("`{v}`"));
    let mut out = String::from("| file key | flag | environment | default | meaning |\n|---|---|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!(
            "| {} | {} | {} | `{}` | {} |\n",
            cell(s.key),
            cell(s.flag),
            cell(s.env),
            s.default,
            s.meaning
        ));
    }
    out
}

impl FileConfig {
    /// Reads a TOML file; a missing or malformed file is an error naming the file.
    pub fn read(path: &Path) -> anyhow::Result<FileConfig> {
        let text =
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))
    }

    /// The HTTP settings this file asks for, over the defaults.
    pub fn http(&self, listen: &str) -> anyhow::Result<HttpConfig> {
        let mut c = HttpConfig::default();
        if let Some(tz) = &self.time_zone {
            c.zone = Zone::named(tz).map_err(|e| anyhow::anyhow!("time_zone: {e}"))?;
        }
        if let Some(r) = self.rate_per_second {
            c.rate_per_second = r;
        }
        if let Some(r) = self.telephony_rate_per_second {
            c.telephony_rate_per_second = r;
        }
        if let Some(n) = self.billing_per_key {
            c.billing_per_key = n;
        }
        if let Some(n) = self.billing_per_ip {
            c.billing_per_ip = n;
        }
        if let Some(n) = self.billing_window_secs {
            c.billing_window_secs = n.max(1);
        }
        if let Some(b) = self.body_limit {
            c.body_limit = b;
        }
        if let Some(b) = self.file_limit {
            c.file_limit = b;
        }
        if let Some(b) = self.shown_cache_bytes {
            c.shown_cache_bytes = b;
        }
        c.public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{self, Visitor};

    /// Collects the field names a derived `Deserialize` asks for. serde has no reflection, and this
    /// test needs the file's keys from the struct itself, not from a list that could drift.
    struct Fields(Vec<&'static str>);

    impl<'de> de::Deserializer<'de> for &mut Fields {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("fields only"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(de::Error::custom("fields only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    #[test]
    fn the_settings_table_names_every_file_key_and_its_default() {
        let mut fields = Fields(Vec::new());
        let _ = FileConfig::deserialize(&mut fields);
        let mut file_keys = fields.0.clone();
        let mut listed: Vec<&str> = SETTINGS.iter().filter_map(|s| s.key).collect();
        file_keys.sort_unstable();
        listed.sort_unstable();
        assert_eq!(file_keys, listed, "every config file key is in SETTINGS, and no other");
        let d = HttpConfig::default();
        let default_of = |key: &str| SETTINGS.iter().find(|s| s.key == Some(key)).map(|s| s.default).unwrap_or("");
        assert_eq!(default_of("rate_per_second"), d.rate_per_second.to_string());
        assert_eq!(default_of("telephony_rate_per_second"), d.telephony_rate_per_second.to_string());
        assert_eq!(default_of("billing_per_key"), d.billing_per_key.to_string());
        assert_eq!(default_of("billing_per_ip"), d.billing_per_ip.to_string());
        assert_eq!(default_of("billing_window_secs"), d.billing_window_secs.to_string());
        assert_eq!(default_of("body_limit"), d.body_limit.to_string());
        assert_eq!(default_of("file_limit"), d.file_limit.to_string());
        assert_eq!(default_of("shown_cache_bytes"), d.shown_cache_bytes.to_string());
        assert_eq!(Some(default_of("time_zone")), d.zone.0.iana_name());
        assert_eq!(default_of("shutdown_grace_secs"), DEFAULT_SHUTDOWN_GRACE_SECS.to_string());
    }

    #[test]
    fn docs_config_md_carries_the_settings_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CONFIG.md");
        let doc = std::fs::read_to_string(path).expect("docs/CONFIG.md");
        let table = reference_table();
        assert!(doc.contains(&table), "docs/CONFIG.md's table is out of date; it should read:\n{table}");
    }

    #[test]
    fn every_key_of_a_file_reaches_the_settings() {
        let file: FileConfig = toml::from_str(
            "time_zone = \"Asia/Novosibirsk\"\nrate_per_second = 3\ntelephony_rate_per_second = 4\nbilling_per_key = 5\n\
             billing_per_ip = 6\nbilling_window_secs = 7\nbody_limit = 8\nfile_limit = 9\nshown_cache_bytes = 10\npublic_url = \"https://torg.example\"\n",
        )
        .expect("a valid file");
        let c = file.http("127.0.0.1:1").expect("settings");
        assert_eq!(
            (
                c.rate_per_second,
                c.telephony_rate_per_second,
                c.billing_per_key,
                c.billing_per_ip,
                c.billing_window_secs
            ),
            (3, 4, 5, 6, 7)
        );
        assert_eq!((c.body_limit, c.file_limit, c.public_url.as_str()), (8, 9, "https://torg.example"));
        assert_eq!(c.shown_cache_bytes, 10);
        assert_eq!(c.zone.0.iana_name(), Some("Asia/Novosibirsk"));
        assert!(toml::from_str::<FileConfig>("billing_per_ipp = 1").is_err(), "unknown keys are refused");
    }
}
