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
        c.public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_file_reaches_the_settings() {
        let file: FileConfig = toml::from_str(
            "time_zone = \"Asia/Novosibirsk\"\nrate_per_second = 3\ntelephony_rate_per_second = 4\nbilling_per_key = 5\n\
             billing_per_ip = 6\nbilling_window_secs = 7\nbody_limit = 8\nfile_limit = 9\npublic_url = \"https://torg.example\"\n",
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
        assert_eq!(c.zone.0.iana_name(), Some("Asia/Novosibirsk"));
        assert!(toml::from_str::<FileConfig>("billing_per_ipp = 1").is_err(), "unknown keys are refused");
    }
}
