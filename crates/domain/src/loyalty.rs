//! Loyalty programmes, their accounts and bonus operations; customer segments; SMS verifications.
//!
//! A programme belongs to one site. Its levels are reached by the sum of an account's paid orders and
//! credit a percent of each paid order as bonuses; bonuses live `expiry_days` from their activation
//! (none: forever) and may pay up to `max_charge_percent` of an order. One bonus pays one unit of the
//! programme's currency. RetailCRM configures programmes in its UI; torg takes them as a JSON document
//! (CLI `torg define loyalty`, demo data), which [`LoyaltyDefinition::from_json`] reads.

use crate::books::Books;
use crate::money::max_amount;
use crate::order::Order;
use crate::{DomainError, FieldErrors};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Bonus operation types, as RetailCRM names them.
pub mod op {
    /// Credited for a paid order.
    pub const CREDIT_FOR_ORDER: &str = "credit_for_order";
    /// Spent on an order.
    pub const CHARGE_FOR_ORDER: &str = "charge_for_order";
    /// Credited by hand (`bonus/credit`).
    pub const CREDIT_MANUAL: &str = "credit_manual";
    /// Charged by hand (`bonus/charge`).
    pub const CHARGE_MANUAL: &str = "charge_manual";
    /// A charge for an order given back.
    pub const CANCEL_OF_CHARGE: &str = "cancel_of_charge";
    /// A credit for an order taken back.
    pub const CANCEL_OF_CREDIT: &str = "cancel_of_credit";

    /// Whether an operation of this type adds a lot of bonuses.
    pub fn is_credit(kind: &str) -> bool {
        matches!(kind, CREDIT_FOR_ORDER | CREDIT_MANUAL | CANCEL_OF_CHARGE)
    }
}

/// The only level type torg's programmes have: a percent of the paid order credited as bonuses.
pub const LEVEL_TYPE: &str = "bonus_percent";

/// A level as defined.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LevelDefinition {
    /// Shown name.
    pub name: String,
    /// Paid orders' sum from which the level applies.
    #[serde(default)]
    pub sum: Decimal,
    /// Percent of a paid order credited.
    pub percent: Decimal,
}

/// A programme as defined (the JSON document the CLI and demo data take).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoyaltyDefinition {
    /// Site code.
    pub site: String,
    /// Shown name.
    pub name: String,
    /// Currency code.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Days credited bonuses live; none: forever.
    #[serde(default)]
    pub expiry_days: Option<i64>,
    /// Largest share of an order bonuses may pay, in percent.
    #[serde(default = "default_max_charge")]
    pub max_charge_percent: Decimal,
    /// Levels; at least one.
    pub levels: Vec<LevelDefinition>,
}

fn default_currency() -> String {
    "RUB".into()
}

fn default_max_charge() -> Decimal {
    Decimal::ONE_HUNDRED
}

impl LoyaltyDefinition {
    /// Reads and checks a definition; every problem is named by its field.
    pub fn from_json(v: &Value) -> Result<LoyaltyDefinition, FieldErrors> {
        let d: LoyaltyDefinition = serde_json::from_value(v.clone())
            .map_err(|e| FieldErrors::from([("loyalty".to_string(), e.to_string())]))?;
        let mut errors = FieldErrors::new();
        if d.site.trim().is_empty() {
            errors.insert("site".into(), "This value should not be blank.".into());
        }
        if d.name.trim().is_empty() {
            errors.insert("name".into(), "This value should not be blank.".into());
        }
        if d.currency.len() != 3 {
            errors.insert("currency".into(), "This value should be a 3-letter currency code.".into());
        }
        if d.expiry_days.is_some_and(|days| !(1..=36_500).contains(&days)) {
            errors.insert("expiryDays".into(), "This value should be between 1 and 36500.".into());
        }
        if d.max_charge_percent <= Decimal::ZERO || d.max_charge_percent > Decimal::ONE_HUNDRED {
            errors.insert("maxChargePercent".into(), "This value should be above 0 and at most 100.".into());
        }
        if d.levels.is_empty() {
            errors.insert("levels".into(), "This collection should contain 1 element or more.".into());
        }
        for (i, l) in d.levels.iter().enumerate() {
            if l.name.trim().is_empty() {
                errors.insert(format!("levels[{i}].name"), "This value should not be blank.".into());
            }
            if l.sum < Decimal::ZERO || l.sum > max_amount() {
                errors.insert(format!("levels[{i}].sum"), "This value should be 0 or more.".into());
            }
            if l.percent < Decimal::ZERO || l.percent > Decimal::ONE_HUNDRED {
                errors.insert(format!("levels[{i}].percent"), "This value should be between 0 and 100.".into());
            }
            if d.levels[..i].iter().any(|o| o.sum == l.sum) {
                errors.insert(format!("levels[{i}].sum"), "Two levels cannot start at the same sum.".into());
            }
        }
        if errors.is_empty() { Ok(d) } else { Err(errors) }
    }
}

/// A level of a stored programme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Level {
    /// Id.
    pub id: i64,
    /// Shown name.
    pub name: String,
    /// Paid orders' sum from which it applies.
    pub sum: Decimal,
    /// Percent of a paid order credited.
    pub percent: Decimal,
}

/// A stored programme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loyalty {
    /// Id.
    pub id: i64,
    /// Site code.
    pub site: String,
    /// Shown name.
    pub name: String,
    /// Currency code.
    pub currency: String,
    /// Running.
    pub active: bool,
    /// Blocked (no operations).
    pub blocked: bool,
    /// Days credited bonuses live; none: forever.
    pub expiry_days: Option<i64>,
    /// Largest share of an order bonuses may pay, in percent.
    pub max_charge_percent: Decimal,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Activated (Unix seconds).
    pub activated_at: Option<i64>,
    /// Levels by ascending sum.
    pub levels: Vec<Level>,
}

impl Loyalty {
    /// The level an account with `orders_sum` paid is on: the highest whose sum it reached (the
    /// lowest level when it reached none).
    pub fn level_for(&self, orders_sum: Decimal) -> Option<&Level> {
        self.levels.iter().rev().find(|l| l.sum <= orders_sum).or_else(|| self.levels.first())
    }

    /// The paid sum at which the next level starts, if there is one above.
    pub fn next_level_sum(&self, orders_sum: Decimal) -> Option<Decimal> {
        self.levels.iter().map(|l| l.sum).filter(|s| *s > orders_sum).min()
    }

    /// Bonuses a paid order of `base` earns on the level of `orders_sum` (rounded to cents).
    pub fn credit_for(&self, orders_sum: Decimal, base: Decimal) -> Decimal {
        let percent = self.level_for(orders_sum).map(|l| l.percent).unwrap_or_default();
        (base * percent / Decimal::ONE_HUNDRED).round_dp(2).normalize()
    }

    /// Most bonuses an order summing `summ` (its lines, before bonuses) may take from `balance`.
    pub fn max_charge(&self, summ: Decimal, balance: Decimal) -> Decimal {
        let cap = (summ.max(Decimal::ZERO) * self.max_charge_percent / Decimal::ONE_HUNDRED).round_dp(2);
        cap.min(balance).max(Decimal::ZERO).normalize()
    }

    /// When bonuses activated at `from` expire.
    pub fn expiry_from(&self, from: i64) -> Option<i64> {
        self.expiry_days.map(|d| from + d * 86_400)
    }
}

/// A customer's participation in a programme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoyaltyAccount {
    /// Id.
    pub id: i64,
    /// Programme id.
    pub loyalty_id: i64,
    /// Customer id.
    pub customer_id: i64,
    /// Customer external id.
    pub customer_external_id: Option<String>,
    /// Site (the programme's).
    pub site: String,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Card number.
    pub card_number: Option<String>,
    /// Custom field values.
    pub custom_fields: Map<String, Value>,
    /// Activated.
    pub active: bool,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Activated (Unix seconds).
    pub activated_at: Option<i64>,
    /// Sum of paid orders.
    pub orders_sum: Decimal,
    /// Bonuses that can be spent now.
    pub amount: Decimal,
}

impl LoyaltyAccount {
    /// RetailCRM's status: `activated` or `not_confirmed`.
    pub fn status(&self) -> &'static str {
        if self.active { "activated" } else { "not_confirmed" }
    }
}

// ---- refusals ----

/// A programme defined for a site that does not exist.
pub fn unknown_site(code: &str) -> DomainError {
    DomainError::invalid("site", format!("Site '{code}' not found."))
}

/// Enrolment on a site that runs no programme.
pub fn no_programme_on(site: &str) -> DomainError {
    DomainError::invalid("site", format!("No active loyalty program on site '{site}'."))
}

/// Enrolment of a customer the site does not have.
pub fn unknown_enrolled_customer() -> DomainError {
    DomainError::invalid("loyaltyAccount.customer", "Customer not found.")
}

/// Enrolment of a customer who already has account `account_id` in the site's programme.
pub fn already_enrolled(account_id: i64) -> DomainError {
    DomainError::invalid(
        "loyaltyAccount.customer",
        format!("The customer already takes part in the loyalty program (account {account_id})."),
    )
}

/// Bonuses credited by hand must become spendable (`activation`) before they expire (`expiry`).
pub fn check_credit_life(activation: i64, expiry: Option<i64>) -> Result<(), DomainError> {
    if expiry.is_some_and(|u| u <= activation) {
        return Err(DomainError::invalid("expireDate", "The expiry date should be after the activation date."));
    }
    Ok(())
}

/// Bonuses move by hand only on an activated account.
pub fn check_account_active(account: &LoyaltyAccount) -> Result<(), DomainError> {
    if !account.active {
        return Err(DomainError::invalid("loyaltyAccount", "The loyalty account is not activated."));
    }
    Ok(())
}

/// Bonuses move by hand only while the programme runs and is not blocked.
pub fn check_programme_running(loyalty: &Loyalty) -> Result<(), DomainError> {
    if !loyalty.active || loyalty.blocked {
        return Err(DomainError::invalid("loyalty", "The loyalty program is not active."));
    }
    Ok(())
}

/// A charge by hand spends no more than the account's live balance.
pub fn check_charge(account: &LoyaltyAccount, amount: Decimal) -> Result<(), DomainError> {
    if amount > account.amount {
        return Err(DomainError::invalid("amount", format!("Not enough bonuses: {} available.", account.amount)));
    }
    Ok(())
}

/// An order whose bonuses are asked for that does not exist.
pub fn unknown_order() -> DomainError {
    DomainError::invalid("order", "Order not found.")
}

/// An order on none of the caller's `sites` is refused as if it did not exist.
pub fn check_order_reach(order: &Order, sites: &[String]) -> Result<(), DomainError> {
    if sites.contains(&order.site) { Ok(()) } else { Err(unknown_order()) }
}

/// The customer whose bonuses an order may spend: none while it is cancelled or has no customer.
pub fn spending_customer(order: &Order, books: &Books) -> Result<i64, DomainError> {
    if books.is_cancelled(&order.status) {
        return Err(DomainError::invalid("order.status", "The order is cancelled."));
    }
    order.customer_id.ok_or_else(|| DomainError::invalid("order.customer", "The order has no customer."))
}

/// A quote asked for a customer the site does not have.
pub fn unknown_order_customer() -> DomainError {
    DomainError::invalid("order.customer", "Customer not found.")
}

/// The customer's account in the site's programme (`found`, if any), which an order may spend or
/// quote bonuses from only once activated.
pub fn active_account(found: Option<(LoyaltyAccount, Loyalty)>) -> Result<(LoyaltyAccount, Loyalty), DomainError> {
    found.filter(|(a, _)| a.active).ok_or_else(|| {
        DomainError::invalid("order.customer", "The customer has no active loyalty account on this site.")
    })
}

/// An order may spend no more than `max_charge` bonuses.
pub fn check_order_charge(bonuses: Decimal, max_charge: Decimal) -> Result<(), DomainError> {
    if bonuses > max_charge {
        return Err(DomainError::invalid(
            "bonuses",
            format!("At most {max_charge} bonuses can be spent on this order."),
        ));
    }
    Ok(())
}

/// The members of `loyaltyAccount` an edit may change (create takes `customer` too).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountPatch {
    /// Phone number (`Some(None)`: cleared).
    pub phone_number: Option<Option<String>>,
    /// Card number (`Some(None)`: cleared).
    pub card_number: Option<Option<String>>,
    /// Custom field values, replaced member by member.
    pub custom_fields: Option<Map<String, Value>>,
}

fn text_member(doc: &Map<String, Value>, key: &str, max: usize, errors: &mut FieldErrors) -> Option<Option<String>> {
    match doc.get(key)? {
        Value::Null => Some(None),
        Value::String(s) if s.trim().is_empty() => Some(None),
        Value::String(s) if s.chars().count() > max => {
            errors.insert(
                format!("loyaltyAccount.{key}"),
                format!("This value is too long. It should have {max} characters or less."),
            );
            None
        }
        Value::String(s) => Some(Some(s.trim().to_string())),
        Value::Number(n) => Some(Some(n.to_string())),
        _ => {
            errors.insert(format!("loyaltyAccount.{key}"), "This value should be of type string.".into());
            None
        }
    }
}

impl AccountPatch {
    /// Reads `loyaltyAccount`.
    pub fn from_doc(doc: &Map<String, Value>) -> Result<AccountPatch, FieldErrors> {
        let mut errors = FieldErrors::new();
        let phone_number = text_member(doc, "phoneNumber", 30, &mut errors);
        if let Some(Some(p)) = &phone_number
            && p.chars().filter(char::is_ascii_digit).count() < 5
        {
            errors.insert("loyaltyAccount.phoneNumber".into(), "This value is not a valid phone number.".into());
        }
        let card_number = text_member(doc, "cardNumber", 64, &mut errors);
        let custom_fields = match doc.get("customFields") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(Value::Array(a)) if a.is_empty() => Some(Map::new()),
            Some(_) => {
                errors.insert("loyaltyAccount.customFields".into(), "This value should be an object.".into());
                None
            }
        };
        if errors.is_empty() { Ok(AccountPatch { phone_number, card_number, custom_fields }) } else { Err(errors) }
    }

    /// Applies the patch to an account.
    pub fn apply(&self, a: &mut LoyaltyAccount) {
        if let Some(p) = &self.phone_number {
            a.phone_number.clone_from(p);
        }
        if let Some(c) = &self.card_number {
            a.card_number.clone_from(c);
        }
        if let Some(m) = &self.custom_fields {
            for (k, v) in m {
                if v.is_null() {
                    a.custom_fields.remove(k);
                } else {
                    a.custom_fields.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// One movement of bonuses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BonusOperation {
    /// Id.
    pub id: i64,
    /// Account id.
    pub account_id: i64,
    /// Programme id.
    pub loyalty_id: i64,
    /// Type ([`op`]).
    pub kind: String,
    /// Bonuses moved (positive).
    pub amount: Decimal,
    /// When (Unix seconds).
    pub created_at: i64,
    /// When a credit becomes spendable.
    pub activation_at: Option<i64>,
    /// When a credit expires.
    pub expire_at: Option<i64>,
    /// Order id.
    pub order_id: Option<i64>,
    /// Order external id.
    pub order_external_id: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

/// A positive amount of bonuses from a request member; `field` names it in errors.
pub fn parse_bonuses(v: Option<&Value>, field: &str) -> Result<Option<Decimal>, FieldErrors> {
    let text = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().replace(',', "."),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(FieldErrors::from([(field.to_string(), "This value should be a number.".to_string())])),
    };
    match text.parse::<Decimal>() {
        Ok(d) if d < Decimal::ZERO || d > max_amount() => {
            Err(FieldErrors::from([(field.to_string(), "This value should be 0 or more.".to_string())]))
        }
        Ok(d) if d.round_dp(2) != d => {
            Err(FieldErrors::from([(field.to_string(), "This value should have 2 decimals or fewer.".to_string())]))
        }
        Ok(d) => Ok(Some(d.normalize())),
        Err(_) => Err(FieldErrors::from([(field.to_string(), "This value should be a number.".to_string())])),
    }
}

/// A segment as defined: a named customer list filter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentDefinition {
    /// Unique code.
    pub code: String,
    /// Shown name.
    pub name: String,
    /// Active.
    #[serde(default = "yes")]
    pub active: bool,
    /// The customer list's filter members (`filter[...]` of `GET /customers`).
    #[serde(default)]
    pub filter: Map<String, Value>,
}

fn yes() -> bool {
    true
}

impl SegmentDefinition {
    /// Reads and checks a definition (the filter itself is checked by whoever applies it).
    pub fn from_json(v: &Value) -> Result<SegmentDefinition, FieldErrors> {
        let d: SegmentDefinition = serde_json::from_value(v.clone())
            .map_err(|e| FieldErrors::from([("segment".to_string(), e.to_string())]))?;
        let mut errors = FieldErrors::new();
        let code_ok = !d.code.is_empty()
            && d.code.len() <= 100
            && d.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !code_ok {
            errors.insert("code".into(), "This value should be 1-100 Latin letters, digits, - or _.".into());
        }
        if d.name.trim().is_empty() {
            errors.insert("name".into(), "This value should not be blank.".into());
        }
        if d.filter.contains_key("segment") {
            errors.insert("filter.segment".into(), "A segment cannot be defined by another segment.".into());
        }
        if errors.is_empty() { Ok(d) } else { Err(errors) }
    }
}

/// A stored segment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// Id.
    pub id: i64,
    /// Unique code.
    pub code: String,
    /// Shown name.
    pub name: String,
    /// Recomputed on every read (always, in torg).
    pub is_dynamic: bool,
    /// Active.
    pub active: bool,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The customer list filter.
    pub filter: Map<String, Value>,
}

/// An SMS check.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SmsCheck {
    /// The id the API names it by.
    pub check_id: String,
    /// Phone the code went to.
    pub phone: String,
    /// What it confirms.
    pub action_type: String,
    /// Sent (Unix seconds).
    pub created_at: i64,
    /// Stops being accepted (Unix seconds).
    pub expired_at: i64,
    /// Confirmed (Unix seconds).
    pub verified_at: Option<i64>,
    /// Wrong codes tried.
    pub attempts: i64,
}

/// How long an SMS code is accepted, in seconds.
pub const SMS_CODE_TTL: i64 = 300;
/// How many wrong codes end a check.
pub const SMS_MAX_ATTEMPTS: i64 = 5;
/// What a check may confirm (RetailCRM's action types).
pub const SMS_ACTIONS: &[&str] = &["verify_customer", "verify_privilege"];

impl SmsCheck {
    /// Whether the check takes no more codes at `now`: confirmed already, expired, or out of tries.
    pub fn is_closed(&self, now: i64) -> bool {
        self.verified_at.is_some() || self.expired_at <= now || self.attempts >= SMS_MAX_ATTEMPTS
    }

    /// Whether `given` is the code that was `sent` (a buyer's stray spaces forgiven).
    pub fn is_right_code(sent: &str, given: &str) -> bool {
        sent == given.trim()
    }

    /// The tries left after one more wrong code.
    pub fn tries_left_after_wrong(&self) -> i64 {
        SMS_MAX_ATTEMPTS - self.attempts - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn programme() -> Loyalty {
        let def = LoyaltyDefinition::from_json(&json!({
            "site": "default", "name": "Club", "expiryDays": 30, "maxChargePercent": 50,
            "levels": [{"name": "Basic", "percent": 3}, {"name": "Silver", "sum": 10000, "percent": 5}]
        }))
        .expect("valid");
        Loyalty {
            max_charge_percent: def.max_charge_percent,
            expiry_days: def.expiry_days,
            levels: def
                .levels
                .iter()
                .enumerate()
                .map(|(i, l)| Level { id: i as i64 + 1, name: l.name.clone(), sum: l.sum, percent: l.percent })
                .collect(),
            ..Loyalty::default()
        }
    }

    #[test]
    fn levels_follow_the_paid_sum() {
        let p = programme();
        assert_eq!(p.level_for(Decimal::ZERO).map(|l| l.name.as_str()), Some("Basic"));
        assert_eq!(p.level_for(Decimal::from(10_000)).map(|l| l.name.as_str()), Some("Silver"));
        assert_eq!(p.next_level_sum(Decimal::from(500)), Some(Decimal::from(10_000)));
        assert_eq!(p.next_level_sum(Decimal::from(20_000)), None);
        assert_eq!(p.credit_for(Decimal::ZERO, Decimal::new(12_345, 2)), Decimal::new(370, 2));
        assert_eq!(p.credit_for(Decimal::from(10_000), Decimal::from(1000)), Decimal::from(50));
    }

    #[test]
    fn charges_are_capped_by_share_and_balance() {
        let p = programme();
        assert_eq!(p.max_charge(Decimal::from(1000), Decimal::from(10_000)), Decimal::from(500));
        assert_eq!(p.max_charge(Decimal::from(1000), Decimal::from(20)), Decimal::from(20));
        assert_eq!(p.expiry_from(0), Some(30 * 86_400));
    }

    #[test]
    fn definitions_are_checked() {
        let bad = LoyaltyDefinition::from_json(&json!({
            "site": "", "name": "X", "maxChargePercent": 0, "levels": [{"name": "A", "percent": 101}]
        }))
        .expect_err("invalid");
        assert!(
            bad.contains_key("site") && bad.contains_key("maxChargePercent") && bad.contains_key("levels[0].percent")
        );
        assert!(LoyaltyDefinition::from_json(&json!({"site": "s", "name": "n", "levels": [], "x": 1})).is_err());
        assert!(SegmentDefinition::from_json(&json!({"code": "bad code", "name": "n"})).is_err());
        assert_eq!(parse_bonuses(Some(&json!("10.5")), "amount"), Ok(Some(Decimal::new(105, 1))));
        assert!(parse_bonuses(Some(&json!("-1")), "amount").is_err());
        assert!(parse_bonuses(Some(&json!("abc")), "amount").is_err());
    }

    use crate::error::testing::{invalid, one};

    #[test]
    fn enrolment_refusals_are_worded() {
        assert_eq!(invalid(unknown_site("shop")), one("site", "Site 'shop' not found."));
        assert_eq!(invalid(no_programme_on("shop")), one("site", "No active loyalty program on site 'shop'."));
        assert_eq!(invalid(unknown_enrolled_customer()), one("loyaltyAccount.customer", "Customer not found."));
        assert_eq!(
            invalid(already_enrolled(12)),
            one("loyaltyAccount.customer", "The customer already takes part in the loyalty program (account 12).")
        );
    }

    #[test]
    fn a_credit_expires_after_it_activates() {
        assert_eq!(check_credit_life(100, None), Ok(()));
        assert_eq!(check_credit_life(100, Some(101)), Ok(()));
        for expiry in [100, 99] {
            assert_eq!(
                invalid(check_credit_life(100, Some(expiry)).unwrap_err()),
                one("expireDate", "The expiry date should be after the activation date.")
            );
        }
    }

    #[test]
    fn bonuses_move_on_an_activated_account_of_a_running_programme() {
        let active = LoyaltyAccount { active: true, amount: Decimal::from(50), ..LoyaltyAccount::default() };
        assert_eq!(check_account_active(&active), Ok(()));
        assert_eq!(
            invalid(check_account_active(&LoyaltyAccount::default()).unwrap_err()),
            one("loyaltyAccount", "The loyalty account is not activated.")
        );
        let running = Loyalty { active: true, ..Loyalty::default() };
        assert_eq!(check_programme_running(&running), Ok(()));
        for stopped in [Loyalty { active: false, ..Loyalty::default() }, Loyalty { blocked: true, ..running }] {
            assert_eq!(
                invalid(check_programme_running(&stopped).unwrap_err()),
                one("loyalty", "The loyalty program is not active.")
            );
        }
        assert_eq!(check_charge(&active, Decimal::from(50)), Ok(()));
        assert_eq!(
            invalid(check_charge(&active, Decimal::new(5001, 2)).unwrap_err()),
            one("amount", "Not enough bonuses: 50 available.")
        );
    }

    #[test]
    fn an_order_spends_bonuses_within_reach_and_limits() {
        let order = Order { site: "shop".into(), status: "new".into(), customer_id: Some(4), ..Order::default() };
        let sites = vec!["shop".to_string()];
        assert_eq!(check_order_reach(&order, &sites), Ok(()));
        assert_eq!(
            invalid(check_order_reach(&order, &["other".into()]).unwrap_err()),
            one("order", "Order not found.")
        );
        assert_eq!(invalid(unknown_order()), one("order", "Order not found."));

        let statuses = crate::reference::defaults(crate::reference::ReferenceKind::Status)
            .into_iter()
            .map(|e| (crate::reference::ReferenceKind::Status, e));
        let books = Books::new(Vec::new(), Vec::new(), statuses);
        assert_eq!(spending_customer(&order, &books), Ok(4));
        let cancelled = Order { status: "no-call".into(), customer_id: None, ..order.clone() };
        assert_eq!(
            invalid(spending_customer(&cancelled, &books).unwrap_err()),
            one("order.status", "The order is cancelled.")
        );
        let anonymous = Order { customer_id: None, ..order };
        assert_eq!(
            invalid(spending_customer(&anonymous, &books).unwrap_err()),
            one("order.customer", "The order has no customer.")
        );

        assert_eq!(invalid(unknown_order_customer()), one("order.customer", "Customer not found."));
        let account = LoyaltyAccount { id: 3, active: true, ..LoyaltyAccount::default() };
        let found = active_account(Some((account.clone(), Loyalty::default()))).expect("active");
        assert_eq!(found.0.id, 3);
        let waiting = LoyaltyAccount { active: false, ..account };
        for found in [None, Some((waiting, Loyalty::default()))] {
            assert_eq!(
                invalid(active_account(found).unwrap_err()),
                one("order.customer", "The customer has no active loyalty account on this site.")
            );
        }

        assert_eq!(check_order_charge(Decimal::from(20), Decimal::from(20)), Ok(()));
        assert_eq!(
            invalid(check_order_charge(Decimal::from(21), Decimal::new(205, 1)).unwrap_err()),
            one("bonuses", "At most 20.5 bonuses can be spent on this order.")
        );
    }

    #[test]
    fn an_sms_check_closes_when_confirmed_expired_or_out_of_tries() {
        let open = SmsCheck { expired_at: 100, attempts: 1, ..SmsCheck::default() };
        assert!(!open.is_closed(99));
        assert_eq!(open.tries_left_after_wrong(), SMS_MAX_ATTEMPTS - 2);
        assert!(open.is_closed(100));
        assert!(SmsCheck { verified_at: Some(5), ..open.clone() }.is_closed(0));
        assert!(SmsCheck { attempts: SMS_MAX_ATTEMPTS, ..open.clone() }.is_closed(0));
        assert!(SmsCheck::is_right_code("1234", " 1234 "));
        assert!(!SmsCheck::is_right_code("1234", "1235"));
    }
}
