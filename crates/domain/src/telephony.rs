//! People who work in the system (managers) and the calls telephony reports.

use serde_json::{Map, Value};

/// A user of the system: a manager responsible for customers and orders.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct User {
    /// Internal id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Patronymic.
    pub patronymic: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Internal telephony code (extension).
    pub code: Option<String>,
    /// Active flag.
    pub active: bool,
    /// Work phone.
    pub phone: Option<String>,
    /// Job title.
    pub position: Option<String>,
    /// `free`, `busy`, `dinner` or `break`.
    pub status: String,
    /// Whether the user is signed in.
    pub online: bool,
    /// Whether the user administers the account.
    pub is_admin: bool,
    /// Whether the user manages orders and customers.
    pub is_manager: bool,
    /// When the user was added (Unix seconds).
    pub created_at: i64,
    /// The groups the user belongs to, by code.
    pub groups: Vec<String>,
}

/// The statuses a user can set.
pub const USER_STATUSES: &[&str] = &["free", "busy", "dinner", "break"];

/// A group of users (managers, directors, couriers), with what it grants.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserGroup {
    /// Internal id.
    pub id: i64,
    /// Symbolic code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Whether its members manage orders.
    pub is_manager: bool,
    /// Whether its members deliver.
    pub is_delivery_men: bool,
    /// Every other attribute (granted sites and order types, breakdowns, signature template).
    pub attrs: Map<String, Value>,
}

/// A call reported by telephony.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Call {
    /// Internal id.
    pub id: i64,
    /// When it happened (Unix seconds).
    pub date: i64,
    /// `in` or `out`.
    pub kind: String,
    /// The other party's phone.
    pub phone: String,
    /// Manager's extension code.
    pub code: Option<String>,
    /// Manager's user id.
    pub user_id: Option<i64>,
    /// `answered`, `busy`, `no answered`, `failed`, …
    pub result: Option<String>,
    /// Seconds talked.
    pub duration: Option<i64>,
    /// The telephony's own id; a second upload with the same id is a duplicate.
    pub external_id: Option<String>,
    /// Every other attribute given.
    pub attrs: Map<String, Value>,
}

/// Call results that telephony may report.
pub const CALL_RESULTS: &[&str] = &["failed", "answered", "busy", "no answered", "not allowed", "unknown"];
