//! torg's domain: the entities every API face shares and the rules that hold whatever face is speaking.
//!
//! Nothing here does I/O. The store persists these types; the HTTP faces translate their dialects into
//! and out of them. Field names follow the richest dialect we speak (RetailCRM's) where the domain has no
//! reason to differ, because that keeps translation thin.

pub mod books;
pub mod catalogue;
pub mod combine;
pub mod corporate;
pub mod cost;
pub mod custom_field;
pub mod customer;
pub mod delivery;
pub mod error;
pub mod file;
pub mod history;
pub mod invoice;
pub mod key;
pub mod listing;
pub mod loyalty;
pub mod money;
pub mod order;
pub mod pack;
pub mod page;
pub mod patch;
pub mod product;
pub mod reference;
pub mod signature;
pub mod stock;
pub mod task;
pub mod telephony;
pub mod time;
pub mod user;

pub use error::{DomainError, FieldErrors};
