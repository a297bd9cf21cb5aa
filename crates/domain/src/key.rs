//! API keys: who may call, with which scopes, on which sites, from which addresses.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Every scope a key can hold: RetailCRM's names, plus ours for the parts, billing and office faces.
pub const ALL_SCOPES: &[&str] = &[
    "order_read",
    "order_write",
    "customer_read",
    "customer_write",
    "store_read",
    "store_write",
    "reference_read",
    "reference_write",
    "telephony_read",
    "telephony_write",
    "user_read",
    "user_write",
    "integration_read",
    "integration_write",
    "custom_fields_read",
    "custom_fields_write",
    "analytics_write",
    "delivery_read",
    "delivery_write",
    "cost_read",
    "cost_write",
    "file_read",
    "file_write",
    "task_read",
    "task_write",
    "segments_read",
    "loyalty_read",
    "loyalty_write",
    "payments_read",
    "payments_write",
    "notification_write",
    "verification_read",
    "verification_write",
    "parts",
    "billing",
    "office",
];

/// The most addresses a key's allow-list may hold (the parts supplier allows five, docs/parts.md).
pub const MAX_ALLOWED_IPS: usize = 5;

/// Which sites a key reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "sites")]
pub enum SiteAccess {
    /// Every site, present and future.
    Full,
    /// Only the listed site codes.
    Selective(Vec<String>),
}

impl SiteAccess {
    /// The site an order a key's buyer places goes to: the buyer's own when the key reaches it,
    /// otherwise the first the key names (a key limited to sites that do not include the buyer's
    /// orders into its own).
    pub fn order_site(&self, buyer_site: &str) -> String {
        match self {
            SiteAccess::Selective(sites) if !sites.is_empty() && !sites.iter().any(|s| s == buyer_site) => {
                sites[0].clone()
            }
            _ => buyer_site.to_owned(),
        }
    }
}

/// Who a key acts for, beyond its scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOwner {
    /// A buyer: the parts face searches and orders as this customer (by internal id).
    Customer(i64),
    /// A distributor: the office face sees only its warehouses (by distributor code).
    Distributor(String),
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Internal id, also what history records point at.
    pub id: i64,
    /// Human name given at creation.
    pub name: String,
    /// First characters of the plain key, to tell keys apart in listings.
    pub prefix: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Reachable sites.
    pub sites: SiteAccess,
    /// Allowed client addresses; empty means any.
    pub allowed_ips: Vec<IpAddr>,
    /// Customer or distributor the key acts for.
    pub owner: Option<KeyOwner>,
    /// The corporate customer a buyer's key orders for (the buyer being its contact person), if any.
    pub corporate_id: Option<i64>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

impl ApiKey {
    /// Whether the key holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the key reaches site `code`.
    pub fn reaches_site(&self, code: &str) -> bool {
        match &self.sites {
            SiteAccess::Full => true,
            SiteAccess::Selective(sites) => sites.iter().any(|s| s == code),
        }
    }

    /// Whether a request from `ip` may use the key.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allowed_ips.is_empty() || self.allowed_ips.iter().any(|a| same_address(*a, ip))
    }

    /// Of the existing sites, the ones this key reaches.
    pub fn reachable_sites<'a>(&self, all: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        all.into_iter().filter(|c| self.reaches_site(c)).map(str::to_owned).collect()
    }
}

/// Compares addresses treating IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as its IPv4 form.
fn same_address(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// The stored form of a plain key: hex SHA-256. Keys are long random strings, so a fast hash is enough
/// and keeps every request's lookup cheap.
pub fn hash_key(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// Checks a scope name against [`ALL_SCOPES`].
pub fn validate_scope(scope: &str) -> Result<(), String> {
    if ALL_SCOPES.contains(&scope) {
        Ok(())
    } else {
        Err(format!("unknown scope '{scope}'; known: {}", ALL_SCOPES.join(", ")))
    }
}

// ---- refusals ----

/// The refusal of a key id or name that names no active buyer's key.
pub fn no_buyer_key(id_or_name: &str) -> DomainError {
    DomainError::invalid("key", format!("No buyer's key '{id_or_name}'."))
}

/// The refusal of a corporate customer's external id unknown on the key buyer's site.
pub fn unknown_corporate(external_id: &str) -> DomainError {
    DomainError::invalid("corporate", format!("Corporate customer '{external_id}' does not exist."))
}

/// The refusal of a corporate customer that the key's buyer is no contact person of.
pub fn not_a_contact(external_id: &str) -> DomainError {
    DomainError::invalid("corporate", format!("The key's buyer is not a contact person of '{external_id}'."))
}

/// The refusal of a site code that names no site: a key's sites, or a site given billing settings.
pub fn unknown_site(code: &str) -> DomainError {
    DomainError::invalid("site", format!("Site '{code}' does not exist."))
}

/// The refusal of a customer external id, as a key's owner, that names no customer.
pub fn unknown_customer(external_id: &str) -> DomainError {
    DomainError::invalid("customer", format!("Customer '{external_id}' does not exist."))
}

/// The refusal of a plain key that another stored key already is.
pub fn key_taken() -> DomainError {
    DomainError::invalid("key", "This key already exists.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sites: SiteAccess, ips: Vec<IpAddr>) -> ApiKey {
        ApiKey {
            id: 1,
            name: "k".into(),
            prefix: "abc".into(),
            scopes: vec!["order_read".into()],
            sites,
            allowed_ips: ips,
            owner: None,
            corporate_id: None,
            created_at: 0,
            revoked_at: None,
        }
    }

    #[test]
    fn sites_and_ips() {
        let k = key(SiteAccess::Selective(vec!["a".into()]), vec!["10.0.0.1".parse().unwrap()]);
        assert!(k.reaches_site("a") && !k.reaches_site("b"));
        assert!(k.allows_ip("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!k.allows_ip("10.0.0.2".parse().unwrap()));
        assert!(key(SiteAccess::Full, vec![]).allows_ip("1.1.1.1".parse().unwrap()));
        assert!(k.has_scope("order_read") && !k.has_scope("order_write"));
        assert_eq!(hash_key("x").len(), 64);
    }

    #[test]
    fn a_buyers_order_goes_to_their_site_unless_the_key_names_others() {
        assert_eq!(SiteAccess::Full.order_site("b"), "b");
        assert_eq!(SiteAccess::Selective(vec![]).order_site("b"), "b");
        assert_eq!(SiteAccess::Selective(vec!["a".into(), "b".into()]).order_site("b"), "b");
        assert_eq!(SiteAccess::Selective(vec!["c".into(), "a".into()]).order_site("b"), "c");
    }

    #[test]
    fn refusals_wording() {
        let only = |e: DomainError| match e {
            DomainError::Invalid(f) => f.into_iter().collect::<Vec<_>>(),
            other => panic!("not Invalid: {other:?}"),
        };
        let one = |k: &str, m: &str| vec![(k.to_string(), m.to_string())];
        assert_eq!(only(no_buyer_key("7")), one("key", "No buyer's key '7'."));
        assert_eq!(only(unknown_corporate("acme")), one("corporate", "Corporate customer 'acme' does not exist."));
        assert_eq!(only(not_a_contact("acme")), one("corporate", "The key's buyer is not a contact person of 'acme'."));
        assert_eq!(only(unknown_site("north")), one("site", "Site 'north' does not exist."));
        assert_eq!(only(unknown_customer("c-1")), one("customer", "Customer 'c-1' does not exist."));
        assert_eq!(only(key_taken()), one("key", "This key already exists."));
    }
}
