//! Money and quantities: decimal in the domain, fixed-point integers in storage.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::ser::{Error as _, Serialize, SerializeStruct, Serializer};
use std::fmt::Write as _;

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

/// The struct name and member serde_json (with `arbitrary_precision`) writes a number's text through;
/// rust_decimal's own deserializer matches on the same literal.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A decimal written as a JSON number with its exact digits, as rust_decimal's own serializer writes it,
/// but formatted on the stack: that one formats into a `String` and parses it back into a
/// `serde_json::Number` (another `String`) first, which was most of the cost of an amount in a page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exact(pub Decimal);

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A decimal's text is at most a sign, 29 digits, a point and a leading zero.
        let mut text = arrayvec::ArrayString::<48>::new();
        write!(text, "{}", self.0).map_err(|_| S::Error::custom("a decimal longer than 48 characters"))?;
        let mut number = serializer.serialize_struct(NUMBER_TOKEN, 1)?;
        number.serialize_field(NUMBER_TOKEN, text.as_str())?;
        number.end()
    }
}

/// `serialize_with` for a decimal member: see [`Exact`].
pub fn exact<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    Exact(*value).serialize(serializer)
}

/// `serialize_with` for an optional decimal member: see [`Exact`].
pub fn exact_opt<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_some(&Exact(*v)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    proptest! {
        /// Byte for byte what rust_decimal's serializer writes, at every scale and sign.
        #[test]
        fn exact_is_what_rust_decimal_writes(lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(),
                                              negative in any::<bool>(), scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(serde_json::to_string(&Exact(d)).unwrap(), serde_json::to_string(&d).unwrap());
            prop_assert_eq!(serde_json::to_value(Exact(d)).unwrap(), serde_json::to_value(d).unwrap());
            let some = Some(d);
            let mut via = serde_json::Serializer::new(Vec::new());
            exact_opt(&some, &mut via).unwrap();
            prop_assert_eq!(via.into_inner(), serde_json::to_vec(&some).unwrap());
        }
    }

    #[test]
    fn exact_writes_small_and_edge_amounts_as_rust_decimal_does() {
        for s in [
            "0",
            "-0",
            "0.0000",
            "10.50",
            "-3.25",
            "0.0001",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
        ] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(serde_json::to_string(&Exact(d)).unwrap(), serde_json::to_string(&d).unwrap(), "{s}");
        }
        assert_eq!(serde_json::to_string(&Exact(Decimal::from_str("10.50").unwrap())).unwrap(), "10.50");
        let mut none = serde_json::Serializer::new(Vec::new());
        exact_opt(&None, &mut none).unwrap();
        assert_eq!(none.into_inner(), b"null");
    }

    #[test]
    fn units_round_trip() {
        for s in ["0", "10.5", "-3.25", "123456789.1234", "0.0001"] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(from_units(to_units(d)), d.normalize(), "{s}");
        }
        assert_eq!(to_units(Decimal::from_str("1.23455").unwrap()), 12346);
    }
}
