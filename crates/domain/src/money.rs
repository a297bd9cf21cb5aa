//! Money and quantities: decimal in the domain, fixed-point integers in storage.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Storage scale: amounts and quantities are kept as integers of 1/10,000, exact on every backend.
pub const SCALE: u32 = 4;

/// Converts a decimal to its fixed-point storage integer, rounding half away from zero past 4 places
/// and saturating at the ends of `i64` (amounts are validated against [`max_amount`] before this).
pub fn to_units(value: Decimal) -> i64 {
    let scaled = value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero) * Decimal::from(10_000);
    scaled.to_i64().unwrap_or(if value.is_sign_negative() { i64::MIN } else { i64::MAX })
}

/// Converts a fixed-point storage integer back into a normalised decimal.
pub fn from_units(units: i64) -> Decimal {
    Decimal::new(units, SCALE).normalize()
}

/// Largest amount the storage can hold exactly (about 900 trillion).
pub fn max_amount() -> Decimal {
    Decimal::new(i64::MAX / 10, SCALE).trunc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn units_round_trip() {
        for s in ["0", "10.5", "-3.25", "123456789.1234", "0.0001"] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(from_units(to_units(d)), d.normalize(), "{s}");
        }
        assert_eq!(to_units(Decimal::from_str("1.23455").unwrap()), 12346);
    }
}
