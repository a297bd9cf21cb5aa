//! Rate limits per client IP: in this process with `governor`, or across a cluster in Redis with a GCRA
//! script, so the limit holds however many torg instances serve the same clients.

use crate::envelope::Envelope;
use crate::{AppState, HttpConfig};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Which limit a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The crm, parts and office APIs and the order page.
    Api,
    /// The crm's telephony methods.
    Telephony,
    /// The billing face (`/v3/`, `/l3/`): per key and per IP over a window, as Invoicebox limits.
    Billing,
    /// Not limited (the OpenAPI document, paths no face owns).
    None,
}

impl Class {
    /// The class of a path, as the face owning it declares.
    pub fn of(path: &str) -> Class {
        crate::kit::rate_of(path)
    }
}

/// GCRA in one round trip: the key holds the theoretical arrival time in milliseconds.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + emission
if new_tat - now > tolerance then return 0 end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(tolerance + emission))
return 1
";

/// The limiters of a server.
pub struct Limiter {
    api: Option<DefaultKeyedRateLimiter<IpAddr>>,
    telephony: Option<DefaultKeyedRateLimiter<IpAddr>>,
    rates: (u32, u32),
    billing_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    billing_key: Option<DefaultKeyedRateLimiter<String>>,
    /// Billing: (per key, per IP, window in seconds).
    billing: (u32, u32, u32),
    redis: Option<(redis::aio::ConnectionManager, redis::Script)>,
}

/// A limiter admitting `count` requests per `window_secs`, refilling evenly.
fn windowed<K: std::hash::Hash + Eq + Clone>(count: u32, window_secs: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let n = NonZeroU32::new(count)?;
    let period = std::time::Duration::from_secs(u64::from(window_secs.max(1))) / count;
    Quota::with_period(period).map(|q| RateLimiter::keyed(q.allow_burst(n)))
}

fn keyed(rate: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    NonZeroU32::new(rate).map(|r| RateLimiter::keyed(Quota::per_second(r).allow_burst(r)))
}

impl Limiter {
    /// Builds the limiters; connects to Redis when the config names it, and fails if it cannot.
    pub async fn new(config: &HttpConfig) -> Result<Limiter, String> {
        let redis = match &config.redis_url {
            None => None,
            Some(url) => {
                let shown = torg_store::redact(url);
                let client = redis::Client::open(url.as_str()).map_err(|e| format!("redis URL {shown}: {e}"))?;
                let manager =
                    redis::aio::ConnectionManager::new(client).await.map_err(|e| format!("redis at {shown}: {e}"))?;
                Some((manager, redis::Script::new(GCRA)))
            }
        };
        Ok(Limiter {
            api: keyed(config.rate_per_second),
            telephony: keyed(config.telephony_rate_per_second),
            rates: (config.rate_per_second, config.telephony_rate_per_second),
            billing_ip: windowed(config.billing_per_ip, config.billing_window_secs),
            billing_key: windowed(config.billing_per_key, config.billing_window_secs),
            billing: (config.billing_per_key, config.billing_per_ip, config.billing_window_secs),
            redis,
        })
    }

    /// Whether one more request of `class` from `ip` is allowed now.
    pub async fn check(&self, class: Class, ip: IpAddr) -> bool {
        let (local, rate, name) = match class {
            Class::None => return true,
            Class::Billing => return self.check_billing(ip, None).await,
            Class::Api => (&self.api, self.rates.0, "api"),
            Class::Telephony => (&self.telephony, self.rates.1, "telephony"),
        };
        let Some(local) = local else { return true };
        if let Some((manager, script)) = &self.redis {
            let emission = 1000.0 / f64::from(rate);
            let mut conn = manager.clone();
            let result: Result<i64, _> =
                script.key(format!("torg:rl:{name}:{ip}")).arg(emission).arg(1000).invoke_async(&mut conn).await;
            match result {
                Ok(allowed) => return allowed == 1,
                // Redis down: keep limiting, per instance, rather than failing every request.
                Err(e) => tracing::warn!(error = %e, "rate limit falls back to local counters"),
            }
        }
        local.check_key(&ip).is_ok()
    }
}

impl Limiter {
    /// Whether Redis answers a `PING`; none when no Redis is configured.
    pub async fn ping_redis(&self) -> Option<Result<(), String>> {
        let (manager, _) = self.redis.as_ref()?;
        let mut conn = manager.clone();
        let answer: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
        Some(answer.map(drop).map_err(|e| e.to_string()))
    }

    /// One more billing request from `ip` with the bearer token `key` (hashed; none when absent).
    pub async fn check_billing(&self, ip: IpAddr, key: Option<&str>) -> bool {
        let (per_key, per_ip, window) = self.billing;
        let window_ms = f64::from(window.max(1)) * 1000.0;
        let ip_ok = match &self.billing_ip {
            None => true,
            Some(l) => self
                .shared("billing-ip", &ip.to_string(), per_ip, window_ms)
                .await
                .unwrap_or_else(|| l.check_key(&ip).is_ok()),
        };
        if !ip_ok {
            return false;
        }
        match (&self.billing_key, key) {
            (Some(l), Some(k)) => {
                let k = torg_domain::key::hash_key(k);
                self.shared("billing-key", &k, per_key, window_ms).await.unwrap_or_else(|| l.check_key(&k).is_ok())
            }
            _ => true,
        }
    }

    /// The Redis verdict for `count` requests per `window_ms`, or none without Redis (or with it down).
    async fn shared(&self, name: &str, key: &str, count: u32, window_ms: f64) -> Option<bool> {
        let (manager, script) = self.redis.as_ref()?;
        let emission = window_ms / f64::from(count.max(1));
        let mut conn = manager.clone();
        let result: Result<i64, _> =
            script.key(format!("torg:rl:{name}:{key}")).arg(emission).arg(window_ms).invoke_async(&mut conn).await;
        match result {
            Ok(allowed) => Some(allowed == 1),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit falls back to local counters");
                None
            }
        }
    }
}

/// Counts a refusal for the metrics.
fn refused(path: &str, class: Class) {
    let face = crate::kit::face_of(path).map_or("torg", |f| f.name);
    let limit = match class {
        Class::Api => "api",
        Class::Telephony => "telephony",
        Class::Billing => "billing",
        Class::None => "none",
    };
    metrics::counter!("torg_rate_limited_total", "face" => face, "limit" => limit).increment(1);
}

/// Refuses a request over its limit with 503 in its face's shape and `Retry-After`.
pub async fn middleware(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let ip = crate::client_ip(&req);
    let class = Class::of(&path);
    if class == Class::Billing {
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_start_matches("Bearer ").trim().to_string());
        if state.limiter.check_billing(ip, bearer.as_deref()).await {
            return next.run(req).await;
        }
        refused(&path, class);
        let mut resp = Envelope::Billing.error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    }
    if state.limiter.check(class, ip).await {
        return next.run(req).await;
    }
    refused(&path, class);
    let mut resp = Envelope::of(&path).error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}
