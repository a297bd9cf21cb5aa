//! The parts face's `_` token: an opaque, sealed copy of what a buyer was shown for one offer at one
//! warehouse, so an order can be checked against exactly that.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How many bytes of the HMAC-SHA256 tag the token carries (128 bits).
const TAG_LEN: usize = 16;

/// What a token binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// Offer id.
    pub offer_id: i64,
    /// Warehouse id.
    pub warehouse_id: i64,
    /// Price in storage units (1/10,000).
    pub price_units: i64,
    /// Delivery days, least.
    pub period_min: i64,
    /// Delivery days, most.
    pub period_max: i64,
    /// Minimum order quantity.
    pub min_qty: i64,
    /// Availability as shown (`500`, `<10`, `>50`, `Есть`).
    pub qty: String,
    /// The key it was shown to.
    pub key_id: i64,
    /// When it was shown (Unix seconds).
    pub issued_at: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of ours, or altered.
    Invalid,
    /// Issued to another account.
    OtherAccount,
    /// Older than the lifetime.
    Expired,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::Invalid => "The position signature \"_\" is invalid or was altered.",
            TokenError::OtherAccount => "The position signature \"_\" was issued to another account.",
            TokenError::Expired => "The position signature \"_\" has expired; search again.",
        })
    }
}

fn tag(secret: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac.finalize().into_bytes().get(..TAG_LEN).map(<[u8]>::to_vec).unwrap_or_default()
}

impl Offered {
    fn payload(&self) -> String {
        format!(
            "1|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.offer_id,
            self.warehouse_id,
            self.price_units,
            self.period_min,
            self.period_max,
            self.min_qty,
            self.key_id,
            self.issued_at,
            self.qty
        )
    }

    /// Seals what was shown into a token.
    pub fn seal(&self, secret: &[u8]) -> String {
        let payload = self.payload();
        let mut bytes = payload.into_bytes();
        let t = tag(secret, &bytes);
        bytes.extend_from_slice(&t);
        STANDARD.encode(bytes)
    }

    /// Opens a token: checks its seal, that it was issued to `key_id`, and that it is younger than
    /// `lifetime_secs` at `now`.
    pub fn open(token: &str, secret: &[u8], key_id: i64, now: i64, lifetime_secs: i64) -> Result<Offered, TokenError> {
        let bytes = STANDARD.decode(token.trim()).map_err(|_| TokenError::Invalid)?;
        if bytes.len() <= TAG_LEN {
            return Err(TokenError::Invalid);
        }
        let (payload, given) = bytes.split_at(bytes.len() - TAG_LEN);
        let expected = tag(secret, payload);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), given)) {
            return Err(TokenError::Invalid);
        }
        let text = std::str::from_utf8(payload).map_err(|_| TokenError::Invalid)?;
        let parts: Vec<&str> = text.splitn(10, '|').collect();
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok()).ok_or(TokenError::Invalid);
        if parts.first() != Some(&"1") {
            return Err(TokenError::Invalid);
        }
        let offered = Offered {
            offer_id: num(1)?,
            warehouse_id: num(2)?,
            price_units: num(3)?,
            period_min: num(4)?,
            period_max: num(5)?,
            min_qty: num(6)?,
            key_id: num(7)?,
            issued_at: num(8)?,
            qty: parts.get(9).ok_or(TokenError::Invalid)?.to_string(),
        };
        if offered.key_id != key_id {
            return Err(TokenError::OtherAccount);
        }
        if now - offered.issued_at > lifetime_secs || offered.issued_at > now + 300 {
            return Err(TokenError::Expired);
        }
        Ok(offered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Offered {
        Offered {
            offer_id: 7,
            warehouse_id: 2,
            price_units: 1_520_200,
            period_min: 7,
            period_max: 9,
            min_qty: 1,
            qty: "<10".into(),
            key_id: 5,
            issued_at: 1_000,
        }
    }

    #[test]
    fn seals_and_opens() {
        let t = sample().seal(b"secret");
        assert_eq!(Offered::open(&t, b"secret", 5, 1_100, 3_600), Ok(sample()));
        assert_eq!(Offered::open(&t, b"other", 5, 1_100, 3_600), Err(TokenError::Invalid));
        assert_eq!(Offered::open(&t, b"secret", 6, 1_100, 3_600), Err(TokenError::OtherAccount));
        assert_eq!(Offered::open(&t, b"secret", 5, 5_000, 3_600), Err(TokenError::Expired));
        let mut bytes = STANDARD.decode(&t).unwrap();
        bytes[8] ^= 1;
        assert_eq!(Offered::open(&STANDARD.encode(bytes), b"secret", 5, 1_100, 3_600), Err(TokenError::Invalid));
        assert_eq!(Offered::open("not base64!", b"secret", 5, 1_100, 3_600), Err(TokenError::Invalid));
    }
}
