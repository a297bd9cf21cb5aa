//! The catalogue: products with brands and part numbers, cross-references, offers, warehouses and
//! the stock they hold, and the rules buyers order by (availability as shown, minimum quantities).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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

/// Cyrillic letters that look like Latin ones, folded so `ос47` typed on a Russian keyboard finds `OC47`.
const LOOK_ALIKES: &[(char, char)] = &[
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('Ё', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('У', 'Y'),
    ('Х', 'X'),
];

/// A part number as search compares it: upper case, Cyrillic look-alikes folded to Latin, and only
/// letters and digits kept (spaces, dashes, dots, slashes and the like dropped).
pub fn normalize_number(number: &str) -> String {
    number
        .chars()
        .flat_map(char::to_uppercase)
        .map(|c| LOOK_ALIKES.iter().find(|(cyr, _)| *cyr == c).map_or(c, |(_, lat)| *lat))
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A brand as it is compared: trimmed, upper case, inner spaces collapsed.
pub fn normalize_brand(brand: &str) -> String {
    brand.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase()
}

/// Brand aliases: one brand under several names (`MAHLE` and `KNECHT` for `KNECHT/MAHLE`, `VW` for
/// `VAG`). Products and cross-references are keyed by the canonical name, so a price list that says
/// `Mahle` updates the same product as one that says `KNECHT/MAHLE`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandAliases(std::collections::HashMap<String, String>);

impl BrandAliases {
    /// Aliases from (alias, brand) pairs, both normalised here; an alias naming itself is dropped.
    pub fn new<A: AsRef<str>, B: AsRef<str>>(pairs: impl IntoIterator<Item = (A, B)>) -> BrandAliases {
        BrandAliases(
            pairs
                .into_iter()
                .map(|(a, b)| (normalize_brand(a.as_ref()), normalize_brand(b.as_ref())))
                .filter(|(a, b)| a != b && !a.is_empty() && !b.is_empty())
                .collect(),
        )
    }

    /// The normalised canonical name of `brand`.
    pub fn canonical(&self, brand: &str) -> String {
        let norm = normalize_brand(brand);
        match self.0.get(&norm) {
            Some(target) => target.clone(),
            None => norm,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Availability as a supplier reports it, or as a warehouse chooses to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    /// An exact count.
    Exact(i64),
    /// Fewer than N.
    Below(i64),
    /// More than N.
    Above(i64),
    /// In stock, count unknown (`Есть`).
    Present,
}

/// The most a buyer may order where availability is open-ended (`>N`, `Есть`), per the supplier's rules (docs/parts.md).
pub const OPEN_ENDED_MAX: i64 = 10_000;

impl Availability {
    /// Reads `500`, `<10`, `>50`, `Есть` (any case, also inside a longer word such as `Есть в наличии`).
    pub fn parse(text: &str) -> Option<Availability> {
        let t = text.trim();
        if t.to_lowercase().contains("есть") {
            return Some(Availability::Present);
        }
        if let Some(n) = t.strip_prefix('<') {
            return n.trim().parse().ok().filter(|n| *n > 0).map(Availability::Below);
        }
        if let Some(n) = t.strip_prefix('>') {
            return n.trim().parse().ok().filter(|n| *n >= 0).map(Availability::Above);
        }
        t.parse().ok().filter(|n| *n >= 0).map(Availability::Exact)
    }

    /// The wire form: `500`, `<10`, `>50`, `Есть`.
    pub fn display(&self) -> String {
        match self {
            Availability::Exact(n) => n.to_string(),
            Availability::Below(n) => format!("<{n}"),
            Availability::Above(n) => format!(">{n}"),
            Availability::Present => "Есть".into(),
        }
    }

    /// The largest quantity a buyer may order against this availability (the supplier's rules, docs/parts.md).
    pub fn max_order(&self) -> i64 {
        match self {
            Availability::Exact(n) => *n,
            Availability::Below(n) => n - 1,
            Availability::Above(_) | Availability::Present => OPEN_ENDED_MAX,
        }
    }
}

/// How a warehouse shows exact stock to buyers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    /// The count itself.
    #[default]
    Exact,
    /// Buckets: `<10` below ten, the count up to fifty, `>50` above.
    Buckets,
    /// Only `Есть`.
    Presence,
}

impl Display {
    /// Parses `exact`, `buckets`, `presence`.
    pub fn parse(text: &str) -> Option<Display> {
        match text.trim().to_lowercase().as_str() {
            "exact" => Some(Display::Exact),
            "buckets" => Some(Display::Buckets),
            "presence" => Some(Display::Presence),
            _ => None,
        }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Display::Exact => "exact",
            Display::Buckets => "buckets",
            Display::Presence => "presence",
        }
    }

    /// What buyers see for `free` units known exactly.
    pub fn show(self, free: i64) -> Availability {
        match self {
            Display::Exact => Availability::Exact(free),
            Display::Buckets if free < 10 => Availability::Below(10),
            Display::Buckets if free > 50 => Availability::Above(50),
            Display::Buckets => Availability::Exact(free),
            Display::Presence => Availability::Present,
        }
    }
}

/// Why a quantity cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// Zero or negative.
    NotPositive,
    /// Not a multiple of the minimum quantity.
    NotMultiple(i64),
    /// More than the shown availability allows.
    AboveAvailable(i64),
}

impl std::fmt::Display for QuantityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuantityError::NotPositive => write!(f, "order_qty must be a positive whole number."),
            QuantityError::NotMultiple(m) => write!(f, "order_qty must be a multiple of min_qty ({m})."),
            QuantityError::AboveAvailable(max) => {
                write!(f, "order_qty must not exceed {max} for the availability shown.")
            }
        }
    }
}

/// Checks an order quantity against the availability shown and the minimum (and step) quantity.
pub fn check_order_qty(qty: i64, shown: Availability, min_qty: i64) -> Result<(), QuantityError> {
    let step = min_qty.max(1);
    if qty <= 0 {
        return Err(QuantityError::NotPositive);
    }
    if qty % step != 0 {
        return Err(QuantityError::NotMultiple(step));
    }
    let max = shown.max_order();
    if qty > max {
        return Err(QuantityError::AboveAvailable(max));
    }
    Ok(())
}

/// The parts face's status display for a numeric code (docs/parts.md, order status codes).
pub fn parts_status_display(code: i64) -> &'static str {
    match code {
        1 => "Ожидает оплаты",
        2 => "Получен в заказ",
        3 => "В работе",
        11 => "Принят поставщиком",
        4 => "В пути от поставщика",
        13 => "На складе филиала",
        12 => "В пути из филиала",
        14 => "На складе",
        15 => "В пути в пункт выдачи",
        5 => "В пункте выдачи",
        7 => "Выдан (Отправлен)",
        10 => "Нет в наличии",
        8 => "Отменен",
        _ => "В работе",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fold_to_one_form() {
        for n in ["OC47", "oc-47", "OC 47", "ос47", "o.c/47", "ОС-47"] {
            assert_eq!(normalize_number(n), "OC47", "{n}");
        }
        assert_eq!(normalize_number("13.0460-2857.2"), "13046028572");
        assert_eq!(normalize_brand("  knecht/mahle "), "KNECHT/MAHLE");
        let aliases = BrandAliases::new([("Mahle", "knecht/mahle"), ("vw", "VAG"), ("bosch", "BOSCH")]);
        assert_eq!(aliases.canonical(" mahle "), "KNECHT/MAHLE");
        assert_eq!(aliases.canonical("Vw"), "VAG");
        assert_eq!(aliases.canonical("Bosch"), "BOSCH");
        assert_eq!(aliases.canonical("TRW"), "TRW");
    }

    #[test]
    fn availability_and_rules_of_seed_002() {
        assert_eq!(Availability::parse("500"), Some(Availability::Exact(500)));
        assert_eq!(Availability::parse("<10"), Some(Availability::Below(10)));
        assert_eq!(Availability::parse(">50"), Some(Availability::Above(50)));
        assert_eq!(Availability::parse("есть"), Some(Availability::Present));
        assert_eq!(Availability::parse("lots"), None);
        let ok = |q, shown, min| check_order_qty(q, shown, min).is_ok();
        assert!(ok(9, Availability::Below(10), 1) && !ok(10, Availability::Below(10), 1));
        assert!(ok(10_000, Availability::Above(50), 1) && !ok(10_001, Availability::Above(50), 1));
        assert!(ok(10_000, Availability::Present, 1) && !ok(10_001, Availability::Present, 1));
        assert!(ok(10, Availability::Exact(10), 1) && !ok(11, Availability::Exact(10), 1));
        assert!(ok(4, Availability::Exact(10), 2) && !ok(3, Availability::Exact(10), 2));
        assert_eq!(check_order_qty(0, Availability::Exact(10), 1), Err(QuantityError::NotPositive));
        assert_eq!(check_order_qty(-2, Availability::Exact(10), 1), Err(QuantityError::NotPositive));
        assert_eq!(Display::Buckets.show(5).display(), "<10");
        assert_eq!(Display::Buckets.show(30).display(), "30");
        assert_eq!(Display::Buckets.show(51).display(), ">50");
        assert_eq!(Display::Presence.show(3).display(), "Есть");
    }
}
