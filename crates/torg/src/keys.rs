//! Making API keys: long random strings, shown once.

use rand::Rng;
use rand::distr::Alphanumeric;

/// A new random key: 32 alphanumeric characters (about 190 bits), RetailCRM's length.
pub fn generate() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}
