//! Corporate customers (RetailCRM's `customer_corporate`): an organisation that buys, with its
//! addresses, its companies (the legal entities it pays through, with their details) and its contact
//! persons (individual customers who order for it).
//!
//! Each entity is checked field by field the way [`crate::customer::Customer`] is: the stored document
//! is laid under the given fields, the result is checked, then typed.

use crate::error::{DomainError, FieldErrors};
use crate::invoice::BillingError;
use crate::order::CustomerRef;
use crate::patch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A corporate customer. Serialised names are the storage document's and RetailCRM's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CorporateCustomer {
    /// Internal id.
    pub id: i64,
    /// The integrating system's id, unique per site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Site code.
    #[serde(skip)]
    pub site: String,
    /// Creation instant (Unix seconds).
    #[serde(skip)]
    pub created_at: i64,
    /// The name the organisation is known by (required).
    pub nick_name: String,
    /// Responsible manager (user id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<i64>,
    /// VIP flag.
    pub vip: bool,
    /// "Bad customer" flag.
    pub bad: bool,
    /// Values of custom fields by code.
    pub custom_fields: Map<String, Value>,
    /// Every other attribute given (discountCardNumber, personalDiscount, source, tags, …), kept as given.
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
}

/// Members of a corporate customer a client may not set: derived ones, and the sub-entities, which
/// are written on create or through their own methods.
const READ_ONLY: &[&str] = &[
    "id",
    "site",
    "createdAt",
    "type",
    "ordersCount",
    "totalSumm",
    "averageSumm",
    "marginSumm",
    "costSumm",
    "mainAddress",
    "mainCompany",
    "mainCustomerContact",
    "addresses",
    "companies",
    "customerContacts",
    "segments",
];

impl CorporateCustomer {
    /// Builds a new corporate customer from a client's document (sub-entities aside), checking every field.
    pub fn from_input(site: &str, input: &Map<String, Value>) -> Result<CorporateCustomer, DomainError> {
        CorporateCustomer { site: site.into(), ..CorporateCustomer::default() }.patched(input)
    }

    /// A copy with the fields present in `input` replaced (a partial update).
    pub fn patched(&self, input: &Map<String, Value>) -> Result<CorporateCustomer, DomainError> {
        let mut errors = FieldErrors::new();
        let mut doc = to_map(self);
        let mut given = input.clone();
        patch::stringify_numbers(&mut given, &["externalId", "nickName", "discountCardNumber"]);
        patch::merge_top_level(&mut doc, &given, READ_ONLY);
        for f in ["externalId", "nickName", "discountCardNumber"] {
            patch::check_string(&doc, f, 255, &mut errors);
        }
        if doc.get("nickName").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            errors.entry("nickName".into()).or_insert_with(|| "This value should not be blank.".into());
        }
        check_bool(&doc, "vip", &mut errors);
        check_bool(&doc, "bad", &mut errors);
        check_number(&doc, "personalDiscount", &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        let mut c: CorporateCustomer = patch::typed(doc)?;
        c.nick_name = c.nick_name.trim().to_string();
        c.id = self.id;
        c.created_at = self.created_at;
        c.site = self.site.clone();
        Ok(c)
    }
}

/// An address of a corporate customer (delivery points, offices, the legal address of a company).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CorporateAddress {
    /// Internal id.
    pub id: i64,
    /// The integrating system's id, unique per corporate customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A name for the address ("Warehouse 2").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The corporate customer's main address (exactly one is, once there is one).
    pub is_main: bool,
    /// The address itself: index, countryIso, region, city, street, building, flat, text, notes, ….
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// Text members of an address and their longest lengths.
pub const ADDRESS_TEXT: &[(&str, usize)] = &[
    ("externalId", 255),
    ("name", 255),
    ("index", 255),
    ("region", 255),
    ("city", 255),
    ("cityType", 255),
    ("street", 255),
    ("streetType", 255),
    ("building", 255),
    ("flat", 255),
    ("house", 255),
    ("housing", 255),
    ("metro", 255),
    ("intercomCode", 255),
    ("notes", 255),
    ("text", 2000),
];

impl CorporateAddress {
    /// A copy with the fields of `input` laid over it, checked; `path` prefixes the error names.
    pub fn patched(&self, input: &Map<String, Value>, path: &str) -> Result<CorporateAddress, DomainError> {
        let mut errors = FieldErrors::new();
        let mut doc = to_map(self);
        let mut given = input.clone();
        let texts: Vec<&str> = ADDRESS_TEXT.iter().map(|(f, _)| *f).collect();
        patch::stringify_numbers(&mut given, &texts);
        patch::merge_top_level(&mut doc, &given, &["id"]);
        for (f, max) in ADDRESS_TEXT {
            patch::check_string_at(&doc, f, &format!("{path}{f}"), *max, &mut errors);
        }
        if let Some(iso) = doc.get("countryIso").filter(|v| !v.is_null())
            && !iso.as_str().is_some_and(|s| s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase()))
        {
            errors.insert(format!("{path}countryIso"), "This value is not a valid country.".into());
        }
        check_bool_at(&doc, "isMain", &format!("{path}isMain"), &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        let mut a: CorporateAddress = patch::typed(doc)?;
        a.id = self.id;
        Ok(a)
    }

    /// The lower-cased city or region, as the list filters compare it.
    pub fn part_lower(&self, key: &str) -> Option<String> {
        self.fields.get(key).and_then(Value::as_str).map(str::to_lowercase)
    }
}

/// A company of a corporate customer: a legal entity (or sole trader) with its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Company {
    /// Internal id.
    pub id: i64,
    /// The integrating system's id, unique per corporate customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Name (required).
    pub name: String,
    /// Brand it trades under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Whether it still buys.
    pub active: bool,
    /// The corporate customer's main company (exactly one is, once there is one).
    pub is_main: bool,
    /// Legal details: contragentType, legalName, legalAddress, INN, OKPO, KPP, OGRN, BIK, bank,
    /// bankAddress, corrAccount, bankAccount, ….
    pub contragent: Map<String, Value>,
    /// The corporate customer's address that is this company's (internal id).
    #[serde(skip)]
    pub address_id: Option<i64>,
    /// Values of custom fields by code.
    pub custom_fields: Map<String, Value>,
    /// Creation instant (Unix seconds).
    #[serde(skip)]
    pub created_at: i64,
    /// Every other attribute given, kept as given.
    #[serde(flatten)]
    pub attrs: Map<String, Value>,
}

/// The kinds of contragent RetailCRM knows.
pub const CONTRAGENT_TYPES: &[&str] = &["individual", "legal-entity", "enterpreneur"];

impl Company {
    /// A new company from a client's document: active unless it says otherwise.
    pub fn from_input(input: &Map<String, Value>, path: &str) -> Result<Company, DomainError> {
        Company { active: true, ..Company::default() }.patched(input, path)
    }

    /// A copy with the fields of `input` laid over it, checked (`address` is the caller's to resolve);
    /// `path` prefixes the error names.
    pub fn patched(&self, input: &Map<String, Value>, path: &str) -> Result<Company, DomainError> {
        let mut errors = FieldErrors::new();
        let mut doc = to_map(self);
        let mut given = input.clone();
        given.remove("address");
        patch::stringify_numbers(&mut given, &["externalId", "name", "brand"]);
        patch::merge_top_level(&mut doc, &given, &["id", "createdAt", "site"]);
        for f in ["externalId", "name", "brand"] {
            patch::check_string_at(&doc, f, &format!("{path}{f}"), 255, &mut errors);
        }
        if doc.get("name").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            errors.entry(format!("{path}name")).or_insert_with(|| "This value should not be blank.".into());
        }
        check_bool_at(&doc, "isMain", &format!("{path}isMain"), &mut errors);
        check_bool_at(&doc, "active", &format!("{path}active"), &mut errors);
        match doc.get_mut("contragent") {
            None | Some(Value::Null) => {
                doc.insert("contragent".into(), Value::Object(Map::new()));
            }
            Some(Value::Object(c)) => check_contragent(c, &format!("{path}contragent."), &mut errors),
            Some(_) => {
                errors.insert(format!("{path}contragent"), "This value should be an object.".into());
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        let mut c: Company = patch::typed(doc)?;
        c.name = c.name.trim().to_string();
        c.id = self.id;
        c.created_at = self.created_at;
        c.address_id = self.address_id;
        Ok(c)
    }

    /// The taxpayer number (`contragent.INN`), when the company has one.
    pub fn inn(&self) -> Option<&str> {
        self.contragent.get("INN").and_then(Value::as_str)
    }
}

/// Checks legal details: the type is one RetailCRM knows; the numbers are digits of the lengths
/// Russian law gives them (INN 10 for an organisation or 12 for a person, KPP 9, OGRN 13 or OGRNIP
/// 15, BIK 9, accounts 20), since a wrong one makes every invoice to the company wrong.
fn check_contragent(c: &mut Map<String, Value>, path: &str, errors: &mut FieldErrors) {
    let digits: &[(&str, &[usize])] = &[
        ("INN", &[10, 12]),
        ("KPP", &[9]),
        ("OGRN", &[13]),
        ("OGRNIP", &[15]),
        ("BIK", &[9]),
        ("corrAccount", &[20]),
        ("bankAccount", &[20]),
        ("OKPO", &[8, 10]),
    ];
    for (field, lengths) in digits {
        match c.get(*field).cloned() {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => {
                c.insert((*field).into(), Value::String(n.to_string()));
                check_digits(c, field, lengths, path, errors);
            }
            Some(Value::String(_)) => check_digits(c, field, lengths, path, errors),
            Some(_) => {
                errors.insert(format!("{path}{field}"), "This value should be of type string.".into());
            }
        }
    }
    patch::check_one_of(c, "contragentType", CONTRAGENT_TYPES, errors);
    if let Some(e) = errors.remove("contragentType") {
        errors.insert(format!("{path}contragentType"), e);
    }
    for f in ["legalName", "legalAddress", "bank", "bankAddress", "certificateNumber"] {
        patch::check_string_at(c, f, &format!("{path}{f}"), 255, errors);
    }
}

fn check_digits(c: &Map<String, Value>, field: &str, lengths: &[usize], path: &str, errors: &mut FieldErrors) {
    let Some(s) = c.get(field).and_then(Value::as_str) else { return };
    if s.is_empty() {
        return;
    }
    if !s.chars().all(|ch| ch.is_ascii_digit()) || !lengths.contains(&s.len()) {
        let allowed: Vec<String> = lengths.iter().map(ToString::to_string).collect();
        errors.insert(format!("{path}{field}"), format!("This value should be {} digits.", allowed.join(" or ")));
    }
}

/// A contact person of a corporate customer: an individual customer, for some or all of its companies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorporateContact {
    /// Internal id of the link.
    pub id: i64,
    /// The individual customer (internal id).
    pub customer_id: i64,
    /// The corporate customer's main contact (exactly one is, once there is one).
    pub is_main: bool,
    /// The companies they act for (internal ids); empty means none named.
    pub companies: Vec<i64>,
}

/// How a request names an entity: by internal id or by external id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityRef {
    /// Internal id.
    Id(i64),
    /// External id.
    ExternalId(String),
}

impl EntityRef {
    /// `{id}` or `{externalId}` of a reference object (`id` wins); none when neither is given.
    pub fn of(m: &Map<String, Value>) -> Option<EntityRef> {
        if let Some(id) = m.get("id").and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())) {
            return Some(EntityRef::Id(id));
        }
        match m.get("externalId") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(EntityRef::ExternalId(s.trim().into())),
            Some(Value::Number(n)) => Some(EntityRef::ExternalId(n.to_string())),
            _ => None,
        }
    }

    /// `id=…` or `externalId=…`, as messages name it.
    pub fn describe(&self) -> String {
        match self {
            EntityRef::Id(id) => format!("id={id}"),
            EntityRef::ExternalId(e) => format!("externalId={e}"),
        }
    }
}

fn to_map<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn check_bool(doc: &Map<String, Value>, field: &str, errors: &mut FieldErrors) {
    check_bool_at(doc, field, field, errors);
}

fn check_bool_at(doc: &Map<String, Value>, field: &str, path: &str, errors: &mut FieldErrors) {
    if !matches!(doc.get(field), None | Some(Value::Null) | Some(Value::Bool(_))) {
        errors.insert(path.into(), "This value should be of type bool.".into());
    }
}

fn check_number(doc: &Map<String, Value>, field: &str, errors: &mut FieldErrors) {
    match doc.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|x| (0.0..=100.0).contains(&x)) => {}
        Some(_) => {
            errors.insert(field.into(), "This value should be a number between 0 and 100.".into());
        }
    }
}

/// A list of objects given as a member of a document (`addresses`, `companies`, `customerContacts`):
/// an array, or an object whose values are the items (a form's `companies[0][id]=…`); none when absent.
pub fn list_member(input: &Map<String, Value>, key: &str) -> Result<Vec<Map<String, Value>>, DomainError> {
    let items = match input.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(m)) => m.values().cloned().collect(),
        Some(_) => return Err(DomainError::invalid(key, "This value should be a list.")),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(m) => Ok(m),
            _ => Err(DomainError::invalid(format!("{key}[{i}]"), "This value should be an object.")),
        })
        .collect()
}

/// A contact's `isMain` flag, if given; `path` prefixes the field's name in an error.
pub fn contact_is_main(input: &Map<String, Value>, path: &str) -> Result<Option<bool>, DomainError> {
    match input.get("isMain") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(DomainError::invalid(format!("{path}isMain"), "This value should be of type bool.")),
    }
}

// ---- member paths ----
//
// A member written with its corporate customer is named in errors by its place in the document
// (`addresses[0].city`); one written on its own, by its fields alone (path `""`).

/// The prefix of the fields of address `index` of a corporate customer's document.
pub fn address_at(index: usize) -> String {
    format!("addresses[{index}].")
}

/// The prefix of the fields of company `index` of a corporate customer's document.
pub fn company_at(index: usize) -> String {
    format!("companies[{index}].")
}

/// The prefix of the fields of contact `index` of a corporate customer's document.
pub fn contact_at(index: usize) -> String {
    format!("customerContacts[{index}].")
}

/// Errors of a member's fields (its custom fields, say) under its `path`; none is no refusal.
pub fn check_fields_at(path: &str, errors: FieldErrors) -> Result<(), DomainError> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(DomainError::Invalid(errors.into_iter().map(|(k, v)| (format!("{path}{k}"), v)).collect()))
}

// ---- refusals ----

/// Where a corporate customer's manager (a user that is not there) is refused.
pub const MANAGER_AT: &str = "managerId";

/// Another corporate customer of the site already has the external id a write gives.
pub fn external_id_taken() -> DomainError {
    DomainError::invalid("externalId", "Corporate customer with this externalId already exists.")
}

/// Entry `index` of a batch (`customersCorporate[i].id`) names corporate customer `id`, which is not
/// there (or not the caller's).
pub fn unknown_id_at(index: usize, id: i64) -> DomainError {
    DomainError::invalid(
        format!("customersCorporate[{index}].id"),
        format!("Corporate customer with id {id} not found."),
    )
}

/// Another address of the corporate customer already has the external id the one at `path` gives.
pub fn address_external_id_taken(path: &str) -> DomainError {
    DomainError::invalid(format!("{path}externalId"), "Address with this externalId already exists.")
}

/// Another company of the corporate customer already has the external id the one at `path` gives.
pub fn company_external_id_taken(path: &str) -> DomainError {
    DomainError::invalid(format!("{path}externalId"), "Company with this externalId already exists.")
}

/// The customer the contact at `path` names is already a contact of the corporate customer.
pub fn contact_taken(path: &str) -> DomainError {
    DomainError::invalid(format!("{path}customer"), "The customer is already a contact of this corporate customer.")
}

fn ref_missing(field: String) -> DomainError {
    DomainError::invalid(field, "Set one of the following fields: id, externalId")
}

/// The address a company at `path` names (`address: {id | externalId}`): none when not given, `Some(None)`
/// when cleared (null); an object naming neither, or anything else, is refused.
pub fn company_address_ref(input: &Map<String, Value>, path: &str) -> Result<Option<Option<EntityRef>>, DomainError> {
    match input.get("address") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Object(m)) => match EntityRef::of(m) {
            Some(r) => Ok(Some(Some(r))),
            None => Err(ref_missing(format!("{path}address"))),
        },
        Some(_) => Err(DomainError::invalid(format!("{path}address"), "This value should be an object.")),
    }
}

/// The address the company at `path` names is not one of the corporate customer's.
pub fn unknown_address(path: &str, r: &EntityRef) -> DomainError {
    DomainError::invalid(format!("{path}address"), format!("Address with {} not found.", r.describe()))
}

/// Company `index` of the contact at `path`: `{id | externalId}` or `{company: {id | externalId}}`.
pub fn contact_company_ref(m: &Map<String, Value>, path: &str, index: usize) -> Result<EntityRef, DomainError> {
    let named = match m.get("company") {
        Some(Value::Object(c)) => EntityRef::of(c),
        _ => EntityRef::of(m),
    };
    named.ok_or_else(|| ref_missing(format!("{path}companies[{index}]")))
}

/// Company `index` of the contact at `path` is not one of the corporate customer's.
pub fn unknown_contact_company(path: &str, index: usize, r: &EntityRef) -> DomainError {
    DomainError::invalid(format!("{path}companies[{index}]"), format!("Company with {} not found.", r.describe()))
}

/// The individual customer the contact at `path` names (`customer: {id | externalId, site?}`), and the
/// site it names for an external id, if any; required.
pub fn contact_customer_ref<'a>(
    input: &'a Map<String, Value>,
    path: &str,
) -> Result<(EntityRef, Option<&'a str>), DomainError> {
    let Some(Value::Object(m)) = input.get("customer") else {
        return Err(DomainError::invalid(format!("{path}customer"), "This value should not be blank."));
    };
    let r = EntityRef::of(m).ok_or_else(|| ref_missing(format!("{path}customer")))?;
    Ok((r, m.get("site").and_then(Value::as_str)))
}

/// The individual customer the contact at `path` names is not there.
pub fn unknown_contact_customer(path: &str, r: &EntityRef) -> DomainError {
    DomainError::invalid(format!("{path}customer"), format!("Customer with {} not found.", r.describe()))
}

// ---- an order's corporate parties ----

/// `id=…` or `externalId=…` of an order's reference, as messages name it.
fn describe_order_ref(r: &CustomerRef) -> String {
    match r {
        CustomerRef::Id(id) => format!("id={id}"),
        CustomerRef::ExternalId(e) => format!("externalId={e}"),
    }
}

/// The corporate customer an order names is not there (or not on the order's site).
pub fn unknown_order_corporate(r: &CustomerRef) -> DomainError {
    let field = if matches!(r, CustomerRef::Id(_)) { "customer.id" } else { "customer.externalId" };
    let message = format!("Corporate customer with {} not found.", describe_order_ref(r));
    DomainError::Unresolved(FieldErrors::from([(field.to_string(), message)]))
}

/// The corporate customer of an order that names a contact person (`names_contact`) or a company: only
/// an order for a corporate customer has them.
pub fn order_corporate_id(corporate_id: Option<i64>, names_contact: bool) -> Result<i64, DomainError> {
    corporate_id.ok_or_else(|| {
        DomainError::invalid(
            if names_contact { "contact" } else { "company" },
            "Only an order for a corporate customer has a contact person and a company.",
        )
    })
}

/// The contact person an order names is not one of its corporate customer's.
pub fn not_a_contact(r: &CustomerRef) -> DomainError {
    DomainError::invalid(
        "contact",
        format!("Customer with {} is not a contact person of the corporate customer.", describe_order_ref(r)),
    )
}

/// The company an order names is not one of its corporate customer's.
pub fn unknown_order_company(r: &CustomerRef) -> DomainError {
    DomainError::invalid("company", format!("Company with {} not found.", describe_order_ref(r)))
}

// ---- legal payers ----

/// A company of the order's site with a legal payer's taxpayer number (INN), one the payer may be.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PayerCompany {
    /// The company's internal id.
    pub id: i64,
    /// Its corporate customer's internal id.
    pub corporate_id: i64,
    /// Whether it still buys.
    pub active: bool,
    /// Whether it is its corporate customer's main company.
    pub is_main: bool,
    /// Its `contragent.KPP`, if any.
    pub kpp: Option<String>,
}

/// The company a legal payer (`inn`, `kpp`) of order `order_number` is, among `candidates` oldest first:
/// an order already corporate customer `current`'s keeps it, and is refused when none of its companies
/// has the INN (the payer is not its buyer); then the KPP named, an active one, the main one, the
/// oldest. None when no company has the INN.
pub fn pick_payer_company(
    mut candidates: Vec<PayerCompany>,
    current: Option<i64>,
    kpp: Option<&str>,
    order_number: &str,
    inn: &str,
) -> Result<Option<PayerCompany>, BillingError> {
    if let Some(current) = current {
        candidates.retain(|c| c.corporate_id == current);
        if candidates.is_empty() {
            return Err(BillingError::validation(
                "customer.vatNumber",
                "wrong_value",
                format!("Order {order_number} belongs to a corporate customer none of whose companies has INN {inn}."),
            ));
        }
    }
    // Ids grow with age, and `sort_by_key` is stable: among equals the oldest stays first.
    candidates.sort_by_key(|c| (kpp.is_none() || c.kpp.as_deref() != kpp, !c.active, !c.is_main));
    Ok(candidates.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_lists_of_objects_in_either_form() {
        let listed = map(json!({"companies": [{"id": 1}, {"id": 2}]}));
        assert_eq!(list_member(&listed, "companies").unwrap().len(), 2);
        let indexed = map(json!({"companies": {"0": {"id": 1}}}));
        assert_eq!(list_member(&indexed, "companies").unwrap(), vec![map(json!({"id": 1}))]);
        assert_eq!(
            list_member(&map(json!({"companies": null})), "companies").unwrap(),
            Vec::<Map<String, Value>>::new()
        );
        assert_eq!(
            list_member(&map(json!({"companies": "x"})), "companies"),
            Err(DomainError::invalid("companies", "This value should be a list."))
        );
        assert_eq!(
            list_member(&map(json!({"addresses": [{}, 5]})), "addresses"),
            Err(DomainError::invalid("addresses[1]", "This value should be an object."))
        );
    }

    #[test]
    fn a_contacts_main_flag_is_a_bool_when_given() {
        assert_eq!(contact_is_main(&map(json!({"isMain": true})), ""), Ok(Some(true)));
        assert_eq!(contact_is_main(&map(json!({})), ""), Ok(None));
        assert_eq!(
            contact_is_main(&map(json!({"isMain": "yes"})), "customerContacts[0]."),
            Err(DomainError::invalid("customerContacts[0].isMain", "This value should be of type bool."))
        );
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_corporate_customer_needs_a_name_and_keeps_other_members() {
        let e = CorporateCustomer::from_input("s", &map(json!({"vip": true}))).unwrap_err();
        assert_eq!(e, DomainError::invalid("nickName", "This value should not be blank."));
        let c =
            CorporateCustomer::from_input("s", &map(json!({"nickName": " Acme ", "discountCardNumber": 42}))).unwrap();
        assert_eq!((c.nick_name.as_str(), c.attrs["discountCardNumber"].clone()), ("Acme", json!("42")));
        let e = CorporateCustomer::from_input("s", &map(json!({"nickName": "A", "vip": "yes"}))).unwrap_err();
        assert!(matches!(e, DomainError::Invalid(f) if f.contains_key("vip")));
    }

    #[test]
    fn company_details_are_checked_and_active_by_default() {
        let c =
            Company::from_input(&map(json!({"name": "Acme LLC", "contragent": {"INN": 7707083893u64}})), "").unwrap();
        assert!(c.active);
        assert_eq!(c.inn(), Some("7707083893"));
        let e = Company::from_input(
            &map(json!({"name": "X", "contragent": {"INN": "12ab", "contragentType": "alien"}})),
            "company.",
        )
        .unwrap_err();
        let DomainError::Invalid(f) = e else { panic!("invalid expected") };
        assert!(f.contains_key("company.contragent.INN") && f.contains_key("company.contragent.contragentType"));
        let inactive = c.patched(&map(json!({"active": false})), "").unwrap();
        assert!(!inactive.active && inactive.patched(&map(json!({"brand": "B"})), "").map(|x| x.active) == Ok(false));
    }

    #[test]
    fn addresses_check_their_country() {
        let a = CorporateAddress::default().patched(&map(json!({"city": "Тверь", "countryIso": "RU"})), "").unwrap();
        assert_eq!(a.part_lower("city").as_deref(), Some("тверь"));
        assert!(CorporateAddress::default().patched(&map(json!({"countryIso": "Russia"})), "").is_err());
    }

    #[test]
    fn member_paths_prefix_their_fields() {
        assert_eq!(
            (address_at(0), company_at(1), contact_at(2)),
            ("addresses[0].".to_string(), "companies[1].".to_string(), "customerContacts[2].".to_string())
        );
        assert_eq!(check_fields_at("companies[0].", FieldErrors::new()), Ok(()));
        let errors = FieldErrors::from([("customFields.x".to_string(), "Bad.".to_string())]);
        assert_eq!(
            check_fields_at("companies[0].", errors.clone()),
            Err(DomainError::invalid("companies[0].customFields.x", "Bad."))
        );
        assert_eq!(check_fields_at("", errors), Err(DomainError::invalid("customFields.x", "Bad.")));
    }

    #[test]
    fn taken_external_ids_and_unknown_ids_are_worded() {
        assert_eq!(MANAGER_AT, "managerId");
        assert_eq!(
            external_id_taken(),
            DomainError::invalid("externalId", "Corporate customer with this externalId already exists.")
        );
        assert_eq!(
            unknown_id_at(3, 9),
            DomainError::invalid("customersCorporate[3].id", "Corporate customer with id 9 not found.")
        );
        assert_eq!(
            address_external_id_taken("addresses[1]."),
            DomainError::invalid("addresses[1].externalId", "Address with this externalId already exists.")
        );
        assert_eq!(
            address_external_id_taken(""),
            DomainError::invalid("externalId", "Address with this externalId already exists.")
        );
        assert_eq!(
            company_external_id_taken("companies[0]."),
            DomainError::invalid("companies[0].externalId", "Company with this externalId already exists.")
        );
        assert_eq!(
            contact_taken("customerContacts[0]."),
            DomainError::invalid(
                "customerContacts[0].customer",
                "The customer is already a contact of this corporate customer."
            )
        );
    }

    #[test]
    fn a_companys_address_is_named_by_id_or_external_id() {
        assert_eq!(company_address_ref(&map(json!({})), ""), Ok(None));
        assert_eq!(company_address_ref(&map(json!({"address": null})), ""), Ok(Some(None)));
        assert_eq!(
            company_address_ref(&map(json!({"address": {"externalId": "a1"}})), ""),
            Ok(Some(Some(EntityRef::ExternalId("a1".into()))))
        );
        assert_eq!(
            company_address_ref(&map(json!({"address": {}})), "companies[0]."),
            Err(DomainError::invalid("companies[0].address", "Set one of the following fields: id, externalId"))
        );
        assert_eq!(
            company_address_ref(&map(json!({"address": 5})), ""),
            Err(DomainError::invalid("address", "This value should be an object."))
        );
        assert_eq!(
            unknown_address("companies[1].", &EntityRef::Id(4)),
            DomainError::invalid("companies[1].address", "Address with id=4 not found.")
        );
    }

    #[test]
    fn a_contact_names_its_customer_and_companies() {
        assert_eq!(
            contact_customer_ref(&map(json!({"customer": {"externalId": "c1", "site": "s2"}})), ""),
            Ok((EntityRef::ExternalId("c1".into()), Some("s2")))
        );
        assert_eq!(contact_customer_ref(&map(json!({"customer": {"id": 7}})), ""), Ok((EntityRef::Id(7), None)));
        assert_eq!(
            contact_customer_ref(&map(json!({})), "customerContacts[0]."),
            Err(DomainError::invalid("customerContacts[0].customer", "This value should not be blank."))
        );
        assert_eq!(
            contact_customer_ref(&map(json!({"customer": {}})), ""),
            Err(DomainError::invalid("customer", "Set one of the following fields: id, externalId"))
        );
        assert_eq!(
            unknown_contact_customer("", &EntityRef::ExternalId("c9".into())),
            DomainError::invalid("customer", "Customer with externalId=c9 not found.")
        );
        assert_eq!(contact_company_ref(&map(json!({"id": 3})), "", 0), Ok(EntityRef::Id(3)));
        assert_eq!(contact_company_ref(&map(json!({"company": {"id": 4}, "id": 3})), "", 0), Ok(EntityRef::Id(4)));
        assert_eq!(
            contact_company_ref(&map(json!({"company": {}})), "customerContacts[1].", 2),
            Err(DomainError::invalid(
                "customerContacts[1].companies[2]",
                "Set one of the following fields: id, externalId"
            ))
        );
        assert_eq!(
            unknown_contact_company("", 1, &EntityRef::Id(8)),
            DomainError::invalid("companies[1]", "Company with id=8 not found.")
        );
    }

    #[test]
    fn an_orders_corporate_parties_are_refused_in_the_orders_words() {
        assert_eq!(
            unknown_order_corporate(&CustomerRef::Id(5)),
            DomainError::Unresolved(FieldErrors::from([(
                "customer.id".into(),
                "Corporate customer with id=5 not found.".into()
            )]))
        );
        assert_eq!(
            unknown_order_corporate(&CustomerRef::ExternalId("k1".into())),
            DomainError::Unresolved(FieldErrors::from([(
                "customer.externalId".into(),
                "Corporate customer with externalId=k1 not found.".into()
            )]))
        );
        assert_eq!(order_corporate_id(Some(4), true), Ok(4));
        let only = "Only an order for a corporate customer has a contact person and a company.";
        assert_eq!(order_corporate_id(None, true), Err(DomainError::invalid("contact", only)));
        assert_eq!(order_corporate_id(None, false), Err(DomainError::invalid("company", only)));
        assert_eq!(
            not_a_contact(&CustomerRef::ExternalId("c1".into())),
            DomainError::invalid(
                "contact",
                "Customer with externalId=c1 is not a contact person of the corporate customer."
            )
        );
        assert_eq!(
            unknown_order_company(&CustomerRef::Id(2)),
            DomainError::invalid("company", "Company with id=2 not found.")
        );
    }

    #[test]
    fn a_legal_payer_is_the_best_company_of_its_inn() {
        let company = |id, corporate_id, active, is_main, kpp: Option<&str>| PayerCompany {
            id,
            corporate_id,
            active,
            is_main,
            kpp: kpp.map(str::to_owned),
        };
        let all = vec![
            company(1, 10, false, true, None),
            company(2, 20, true, false, Some("111")),
            company(3, 20, true, true, Some("222")),
        ];
        let pick = |current, kpp| pick_payer_company(all.clone(), current, kpp, "7A", "7707083893");
        assert_eq!(pick(None, None).unwrap().map(|c| c.id), Some(3));
        assert_eq!(pick(None, Some("111")).unwrap().map(|c| c.id), Some(2));
        assert_eq!(pick(Some(10), Some("111")).unwrap().map(|c| c.id), Some(1));
        assert_eq!(pick_payer_company(Vec::new(), None, None, "7A", "1").unwrap(), None);
        let refused = pick(Some(30), None).unwrap_err();
        assert_eq!(
            refused,
            BillingError::validation(
                "customer.vatNumber",
                "wrong_value",
                "Order 7A belongs to a corporate customer none of whose companies has INN 7707083893."
            )
        );
    }
}
