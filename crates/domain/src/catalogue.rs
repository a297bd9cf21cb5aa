//! The catalogue as far as orders need it: offers that order lines point at.

use rust_decimal::Decimal;

/// A sellable offer of a product.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Offer {
    /// Internal id.
    pub id: i64,
    /// Owning product.
    pub product_id: i64,
    /// External id from the integrating system.
    pub external_id: Option<String>,
    /// XML id from a catalogue feed.
    pub xml_id: Option<String>,
    /// Name.
    pub name: String,
    /// Part number.
    pub article: Option<String>,
    /// Base price.
    pub price: Decimal,
    /// Purchase price.
    pub purchase_price: Option<Decimal>,
    /// Whether it can be sold.
    pub active: bool,
}
