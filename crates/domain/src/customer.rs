//! Customers (buyers): contact data, the site they belong to, and what they have ordered.

use crate::error::{DomainError, FieldErrors};
use crate::patch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A phone number of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    /// The number as given.
    pub number: String,
}

/// A customer. Serialised field names are the storage document's and RetailCRM's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Customer {
    /// Internal id.
    pub id: i64,
    /// The integrating system's id, unique per site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Site code.
    pub site: String,
    /// Creation instant (Unix seconds).
    #[serde(skip)]
    pub created_at: i64,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Patronymic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone numbers, first is main.
    pub phones: Vec<Phone>,
    /// Responsible manager (user id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<i64>,
    /// VIP flag.
    pub vip: bool,
    /// "Bad customer" flag.
    pub bad: bool,
    /// `male` or `female`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Birthday, `Y-m-d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Postal address (index, countryIso, region, city, street, building, flat, text, …).
    pub address: Map<String, Value>,
    /// Values of custom fields by code.
    pub custom_fields: Map<String, Value>,
    /// Every other attribute given (contragent, tags, source, discounts, …), kept as given.
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
}

/// Fields a client may not set.
const READ_ONLY: &[&str] = &[
    "id",
    "customerSubscriptions",
    "site",
    "createdAt",
    "ordersCount",
    "totalSumm",
    "averageSumm",
    "marginSumm",
    "costSumm",
    "type",
    "segments",
    "isContact",
];

impl Customer {
    /// Builds a new customer from a client's document, checking every field.
    pub fn from_input(site: &str, input: &Map<String, Value>) -> Result<Customer, DomainError> {
        Customer { site: site.into(), ..Customer::default() }.patched(input)
    }

    /// A copy with the fields present in `input` replaced (a partial update).
    pub fn patched(&self, input: &Map<String, Value>) -> Result<Customer, DomainError> {
        let mut errors = FieldErrors::new();
        let mut doc = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut given = input.clone();
        patch::stringify_numbers(&mut given, &["externalId"]);
        patch::merge_top_level(&mut doc, &given, READ_ONLY);
        patch::normalise_phones(&mut doc, &mut errors);
        patch::check_string(&doc, "email", 255, &mut errors);
        patch::check_email(&doc, "email", &mut errors);
        for f in ["firstName", "lastName", "patronymic", "externalId"] {
            patch::check_string(&doc, f, 255, &mut errors);
        }
        patch::check_one_of(&doc, "sex", &["male", "female"], &mut errors);
        patch::check_date(&doc, "birthday", &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        let mut customer: Customer = patch::typed(doc)?;
        customer.id = self.id;
        customer.created_at = self.created_at;
        customer.site = self.site.clone();
        Ok(customer)
    }

    /// "Last First Patronymic", the way the CRM shows names.
    pub fn full_name(&self) -> String {
        [&self.last_name, &self.first_name, &self.patronymic]
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

// ---- refusals ----

/// Where a customer's manager (a user that is not there) is refused.
pub const MANAGER_AT: &str = "managerId";

/// Another customer of the site already has the external id a write gives.
pub fn external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Customer with this externalId already exists.")
}

/// Entry `index` of a batch (`customers[i].id`) names customer `id`, which is not there (or not the caller's).
pub fn unknown_id_at(index: usize, id: i64) -> DomainError {
    DomainError::invalid(format!("customers[{index}].id"), format!("Customer with id {id} not found."))
}

/// What a customer has ordered, derived from their orders.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CustomerStats {
    /// Orders placed (test orders excluded).
    pub orders_count: i64,
    /// Sum of their orders' totals.
    pub total_summ: rust_decimal::Decimal,
    /// Those totals less what their goods cost (purchase prices).
    pub margin_summ: rust_decimal::Decimal,
    /// What those orders cost the seller: the sum of the costs (`costs`) naming them.
    pub cost_summ: rust_decimal::Decimal,
    /// Whether they are a contact person of a corporate customer.
    pub is_contact: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_field() {
        assert_eq!(
            external_id_taken(),
            DomainError::invalid("externalId", "Customer with this externalId already exists.")
        );
        assert_eq!(MANAGER_AT, "managerId");
        assert_eq!(unknown_id_at(2, 17), DomainError::invalid("customers[2].id", "Customer with id 17 not found."));
    }
}
