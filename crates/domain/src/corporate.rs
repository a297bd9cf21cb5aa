//! Corporate customers (RetailCRM's `customer_corporate`): an organisation that buys, with its
//! addresses, its companies (the legal entities it pays through, with their details) and its contact
//! persons (individual customers who order for it).
//!
//! Each entity is checked field by field the way [`crate::customer::Customer`] is: the stored document
//! is laid under the given fields, the result is checked, then typed.

use crate::error::{DomainError, FieldErrors};
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
}
