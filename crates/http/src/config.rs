//! Settings of the HTTP layer.

use torg_domain::time::Zone;

/// What the HTTP layer is told at start.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Zone that `Y-m-d H:i:s` on the wire is read and written in.
    pub zone: Zone,
    /// Requests per second per client IP on the crm, parts and office faces; 0 turns limits off.
    pub rate_per_second: u32,
    /// Requests per second per client IP under `/api/telephony/`.
    pub telephony_rate_per_second: u32,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Redis URL for cluster-wide rate limits; none keeps counters in this process.
    pub redis_url: Option<String>,
    /// The address clients reach this server at, reported by `/api/system-info`.
    pub public_url: String,
    /// How long a parts-face position signature (`_`) stays valid, in seconds.
    pub token_lifetime_secs: i64,
    /// Billing requests per key per window (Invoicebox: 100 per 30 s); 0 turns the limit off.
    pub billing_per_key: u32,
    /// Billing requests per client IP per window (Invoicebox: 500 per 30 s); 0 turns the limit off.
    pub billing_per_ip: u32,
    /// The billing limits' window, in seconds.
    pub billing_window_secs: u32,
    /// Largest file `files/upload` keeps, in bytes (the body limit caps it too).
    pub file_limit: usize,
    /// Memory for orders kept rendered as the CRM face shows them, in bytes; 0 keeps none.
    pub shown_cache_bytes: usize,
    /// Note every parameter a handler reads that its route does not declare (`crate::fields`); the test
    /// harness turns it on, a deployment has no use for it.
    pub check_fields: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            zone: Zone::named("Europe/Moscow").unwrap_or(Zone(jiff::tz::TimeZone::UTC)),
            rate_per_second: 10,
            telephony_rate_per_second: 40,
            body_limit: 10 * 1024 * 1024,
            redis_url: None,
            public_url: "http://127.0.0.1:8080".into(),
            token_lifetime_secs: 3600,
            billing_per_key: 100,
            billing_per_ip: 500,
            billing_window_secs: 30,
            file_limit: 5 * 1024 * 1024,
            shown_cache_bytes: 64 * 1024 * 1024,
            check_fields: false,
        }
    }
}
