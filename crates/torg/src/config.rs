//! Configuration: defaults, then an optional TOML file, then environment variables and flags (clap
//! merges the last two).

use serde::Deserialize;
use std::path::Path;
use torg_domain::time::Zone;
use torg_http::HttpConfig;

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
    /// Largest request body in bytes.
    pub body_limit: Option<usize>,
    /// URL clients reach this server at.
    pub public_url: Option<String>,
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
        if let Some(b) = self.body_limit {
            c.body_limit = b;
        }
        c.public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        Ok(c)
    }
}
