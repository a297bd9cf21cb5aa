//! The books an order is checked against (sites, warehouses and the reference books), loaded once, and
//! the rules a write applies with them: defaults, reference checks, which payment statuses mean paid,
//! and which stock an order holds. Pure functions over the loaded books, so the store only loads and
//! writes, and every rule is tested here.

use crate::FieldErrors;
use crate::custom_field::{CustomField, Dictionary};
use crate::order::Order;
use crate::reference::{ReferenceEntry, ReferenceKind, Site};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Sites, warehouses and reference books as one snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Books {
    sites: Vec<Site>,
    warehouses: Vec<(String, i64)>,
    refs: Vec<Vec<ReferenceEntry>>,
    /// The group of each status, in the order of the status book (see `statuses_with_groups`): read
    /// for every list filtered by status, where looking it up in each entry's attributes hashed the
    /// key once per status.
    status_groups: Vec<Option<String>>,
    /// What each status or status group code stands for in a filter, sorted, by code (see
    /// `expand_statuses`): worked out once here, not for every list filtered by status.
    expansions: Vec<(String, Vec<String>)>,
    /// The paid statuses (see `paid`), shared: every order shown carries them.
    paid: Arc<[String]>,
    custom_fields: Vec<CustomField>,
    dictionaries: Vec<Dictionary>,
}

fn slot(kind: ReferenceKind) -> usize {
    ReferenceKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

impl Books {
    /// Books from their rows: sites in display order, warehouses as (code, id), and reference entries
    /// of every kind, each kind's in display order.
    pub fn new(
        sites: Vec<Site>,
        warehouses: Vec<(String, i64)>,
        entries: impl IntoIterator<Item = (ReferenceKind, ReferenceEntry)>,
    ) -> Books {
        let mut refs = vec![Vec::new(); ReferenceKind::ALL.len()];
        for (kind, e) in entries {
            refs[slot(kind)].push(e);
        }
        let status_groups: Vec<Option<String>> =
            refs[slot(ReferenceKind::Status)].iter().map(|e| e.attr_str("group").map(str::to_owned)).collect();
        let expansions = expansions(&refs[slot(ReferenceKind::Status)], &status_groups);
        let paid = refs[slot(ReferenceKind::PaymentStatus)]
            .iter()
            .filter(|e| e.attr_bool("paymentComplete"))
            .map(|e| e.code.clone())
            .collect();
        Books {
            sites,
            warehouses,
            refs,
            status_groups,
            expansions,
            paid,
            custom_fields: Vec::new(),
            dictionaries: Vec::new(),
        }
    }

    /// The same books with custom field definitions and their dictionaries.
    pub fn with_custom_fields(mut self, fields: Vec<CustomField>, dictionaries: Vec<Dictionary>) -> Books {
        self.custom_fields = fields;
        self.dictionaries = dictionaries;
        self
    }

    /// Every custom field definition, by entity, ordering and code.
    pub fn custom_fields(&self) -> &[CustomField] {
        &self.custom_fields
    }

    /// Every dictionary, by code.
    pub fn dictionaries(&self) -> &[Dictionary] {
        &self.dictionaries
    }

    /// The entry of `kind` with this id.
    pub fn ref_by_id(&self, kind: ReferenceKind, id: i64) -> Option<&ReferenceEntry> {
        self.refs(kind).iter().find(|e| e.id == id)
    }

    /// Checks and normalises the custom field values of an `entity` (`order`, `customer`) against
    /// their definitions.
    pub fn check_custom_fields(
        &self,
        entity: &str,
        values: &mut serde_json::Map<String, serde_json::Value>,
        errors: &mut FieldErrors,
    ) {
        crate::custom_field::check_values(entity, &self.custom_fields, &self.dictionaries, values, errors);
    }

    /// Every site, in display order.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The codes of every site.
    pub fn site_codes(&self) -> Vec<String> {
        self.sites.iter().map(|s| s.code.clone()).collect()
    }

    /// Every entry of a book, in display order.
    pub fn refs(&self, kind: ReferenceKind) -> &[ReferenceEntry] {
        &self.refs[slot(kind)]
    }

    /// The id of the warehouse with this code.
    pub fn warehouse_id(&self, code: &str) -> Option<i64> {
        self.warehouses.iter().find(|(c, _)| c == code).map(|(_, id)| *id)
    }

    /// The entry of `kind` marked `defaultForApi`, if any.
    fn default_of(&self, kind: ReferenceKind) -> Option<String> {
        self.refs(kind).iter().find(|e| e.attr_bool("defaultForApi")).map(|e| e.code.clone())
    }

    fn has(&self, kind: ReferenceKind, code: &str) -> bool {
        self.refs(kind).iter().any(|e| e.code == code)
    }

    /// Every status with its group, in the order of the status book.
    fn statuses_with_groups(&self) -> impl Iterator<Item = (&ReferenceEntry, Option<&str>)> {
        self.refs(ReferenceKind::Status).iter().zip(self.status_groups.iter().map(Option::as_deref))
    }

    /// Whether a status belongs to the `cancel` group (a cancelled order holds no stock).
    pub fn is_cancelled(&self, status: &str) -> bool {
        self.statuses_with_groups().any(|(e, group)| e.code == status && group == Some("cancel"))
    }

    /// The status group of a status.
    pub fn status_group(&self, status: &str) -> Option<&str> {
        self.statuses_with_groups().find(|(e, _)| e.code == status).and_then(|(_, group)| group)
    }

    /// The statuses `codes` name, sorted and once each: a status code stands for itself, a status
    /// group's code for every status of the group (a code that is both stands for both).
    pub fn expand_statuses(&self, codes: &[String]) -> Vec<String> {
        let of = |code: &String| {
            let i = self.expansions.binary_search_by(|(c, _)| c.as_str().cmp(code)).ok()?;
            self.expansions.get(i).map(|(_, statuses)| statuses)
        };
        match codes {
            [one] => of(one).cloned().unwrap_or_default(),
            _ => {
                let mut out: Vec<String> = codes.iter().filter_map(of).flatten().cloned().collect();
                out.sort();
                out.dedup();
                out
            }
        }
    }

    /// The payment statuses that mean the money arrived (`paymentComplete`), shared by every reader
    /// of these books.
    pub fn paid(&self) -> &Arc<[String]> {
        &self.paid
    }

    /// The stock an order holds: (offer, warehouse id, quantity) per line with an offer, from the line's
    /// warehouse or else the order's shipment store. Test and cancelled orders hold none; fractions of a
    /// unit are not held.
    pub fn wanted_reservations(&self, o: &Order) -> Vec<(i64, i64, i64)> {
        if o.is_test || self.is_cancelled(&o.status) {
            return Vec::new();
        }
        o.items
            .iter()
            .filter_map(|i| {
                let offer = i.offer.as_ref()?.id;
                let code = i.warehouse.as_deref().or(o.shipment_store.as_deref())?;
                let warehouse = self.warehouse_id(code)?;
                let qty = i.quantity.trunc().to_string().parse::<i64>().ok()?;
                Some((offer, warehouse, qty))
            })
            .collect()
    }

    /// Fills the defaults an order takes from the books (status `new`, the default order type, order
    /// method, payment type and status) and reports every code it names that the books lack, by field.
    pub fn check(&self, o: &mut Order, errors: &mut FieldErrors) {
        use ReferenceKind as K;
        if !self.sites.iter().any(|s| s.code == o.site) {
            errors.insert("site".into(), format!("Site '{}' does not exist.", o.site));
        }
        self.check_custom_fields("order", &mut o.custom_fields, errors);
        if o.status.is_empty() {
            o.status = "new".into();
        }
        if !self.has(K::Status, &o.status) {
            errors.insert("status".into(), format!("Status '{}' does not exist.", o.status));
        }
        if o.order_type.is_none() {
            o.order_type = self.default_of(K::OrderType);
        }
        if let Some(t) = o.order_type.as_deref().filter(|t| !self.has(K::OrderType, t)) {
            errors.insert("orderType".into(), format!("Order type '{t}' does not exist."));
        }
        if o.order_method.is_none() {
            o.order_method = self.default_of(K::OrderMethod);
        }
        if let Some(m) = o.order_method.as_deref().filter(|m| !self.has(K::OrderMethod, m)) {
            errors.insert("orderMethod".into(), format!("Order method '{m}' does not exist."));
        }
        if let Some(d) = o.delivery.code.as_deref().filter(|d| !self.has(K::DeliveryType, d)) {
            errors.insert("delivery.code".into(), format!("Delivery type '{d}' does not exist."));
        }
        if let Some(s) = o.shipment_store.as_deref().filter(|s| self.warehouse_id(s).is_none()) {
            errors.insert("shipmentStore".into(), format!("Store '{s}' does not exist."));
        }
        for (i, item) in o.items.iter().enumerate() {
            if !self.has(K::ProductStatus, &item.status) {
                errors
                    .insert(format!("items[{i}].status"), format!("Product status '{}' does not exist.", item.status));
            }
        }
        let default_type = self.default_of(K::PaymentType);
        let default_status = self.default_of(K::PaymentStatus);
        for (i, p) in o.payments.iter_mut().enumerate() {
            if p.kind.is_empty() {
                p.kind = default_type.clone().unwrap_or_default();
            }
            if !self.has(K::PaymentType, &p.kind) {
                errors.insert(format!("payments[{i}].type"), format!("Payment type '{}' does not exist.", p.kind));
            }
            if p.status.is_empty() {
                p.status = default_status.clone().unwrap_or_else(|| "not-paid".into());
            }
            if !self.has(K::PaymentStatus, &p.status) {
                errors
                    .insert(format!("payments[{i}].status"), format!("Payment status '{}' does not exist.", p.status));
            }
        }
    }
}

/// Each status and status group code with the statuses it stands for, sorted and once each, by code.
fn expansions(statuses: &[ReferenceEntry], groups: &[Option<String>]) -> Vec<(String, Vec<String>)> {
    let mut by_code: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (status, group) in statuses.iter().zip(groups) {
        by_code.entry(&status.code).or_default().push(status.code.clone());
        if let Some(group) = group {
            by_code.entry(group).or_default().push(status.code.clone());
        }
    }
    by_code
        .into_iter()
        .map(|(code, mut of)| {
            of.sort();
            of.dedup();
            (code.to_owned(), of)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{OfferSnapshot, OrderItem, Payment};
    use crate::reference::defaults;
    use rust_decimal::Decimal;

    fn books() -> Books {
        let site = Site {
            id: 1,
            code: "shop".into(),
            name: "Shop".into(),
            url: None,
            ordering: 1,
            attrs: serde_json::Map::new(),
        };
        let entries = ReferenceKind::ALL.into_iter().flat_map(|k| defaults(k).into_iter().map(move |e| (k, e)));
        Books::new(vec![site], vec![("main".into(), 7), ("north".into(), 9)], entries)
    }

    fn line(offer: i64, qty: i64, warehouse: Option<&str>) -> OrderItem {
        OrderItem {
            offer: Some(OfferSnapshot { id: offer, ..OfferSnapshot::default() }),
            quantity: Decimal::from(qty),
            warehouse: warehouse.map(str::to_owned),
            status: "new".into(),
            ..OrderItem::default()
        }
    }

    #[test]
    fn status_groups_expand_to_their_statuses() {
        let b = books();
        let codes = |c: &[&str]| b.expand_statuses(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(codes(&["complete", "no-call"]), ["complete", "no-call"], "statuses stand for themselves");
        assert_eq!(
            codes(&["delivery", "new"]),
            ["at-pickup-point", "delivering", "new", "send-to-delivery"],
            "a group stands for its statuses, sorted"
        );
        // `assembling` is a status and its group: both, once.
        let assembling = codes(&["assembling", "assembling"]);
        assert_eq!(assembling.len(), 6, "{assembling:?}");
        assert!(assembling.contains(&"at-branch".to_string()) && assembling.contains(&"assembling".to_string()));
        assert!(codes(&["no-such"]).is_empty(), "an unknown code stands for nothing");
        assert_eq!(codes(&["delivery"]), ["at-pickup-point", "delivering", "send-to-delivery"], "one group alone");
        assert_eq!(codes(&["new"]), ["new"], "one status alone");
    }

    #[test]
    fn fills_defaults_and_accepts_known_codes() {
        let b = books();
        let mut o = Order { site: "shop".into(), ..Order::default() };
        o.payments.push(Payment::default());
        let mut errors = FieldErrors::new();
        b.check(&mut o, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(o.status, "new");
        assert!(o.order_type.is_some() && o.order_method.is_some());
        assert!(!o.payments[0].kind.is_empty());
        assert!(!o.payments[0].status.is_empty());
    }

    #[test]
    fn names_every_unknown_code_by_field() {
        let b = books();
        let mut o = Order {
            site: "elsewhere".into(),
            status: "nope".into(),
            order_type: Some("t".into()),
            order_method: Some("m".into()),
            shipment_store: Some("south".into()),
            ..Order::default()
        };
        o.delivery.code = Some("d".into());
        o.items.push(OrderItem { status: "gone".into(), ..OrderItem::default() });
        o.payments.push(Payment { kind: "barter".into(), status: "maybe".into(), ..Payment::default() });
        let mut errors = FieldErrors::new();
        b.check(&mut o, &mut errors);
        for field in [
            "site",
            "status",
            "orderType",
            "orderMethod",
            "delivery.code",
            "shipmentStore",
            "items[0].status",
            "payments[0].type",
            "payments[0].status",
        ] {
            assert!(errors.contains_key(field), "{field} missing from {errors:?}");
        }
        assert_eq!(errors["shipmentStore"], "Store 'south' does not exist.");
    }

    #[test]
    fn reservations_follow_lines_then_the_shipment_store() {
        let b = books();
        let mut o = Order {
            site: "shop".into(),
            status: "new".into(),
            shipment_store: Some("main".into()),
            ..Order::default()
        };
        o.items = vec![line(1, 2, None), line(2, 3, Some("north")), line(3, 1, Some("unknown"))];
        o.items.push(OrderItem { quantity: Decimal::ONE, ..OrderItem::default() });
        assert_eq!(b.wanted_reservations(&o), vec![(1, 7, 2), (2, 9, 3)]);
        o.is_test = true;
        assert!(b.wanted_reservations(&o).is_empty());
        o.is_test = false;
        let cancelled = b.refs(ReferenceKind::Status).iter().find(|e| e.attr_str("group") == Some("cancel")).unwrap();
        o.status = cancelled.code.clone();
        assert!(b.is_cancelled(&o.status));
        assert!(b.wanted_reservations(&o).is_empty());
    }

    #[test]
    fn paid_statuses_are_the_complete_ones() {
        let b = books();
        let paid = b.paid();
        assert!(!paid.is_empty());
        for code in paid.iter() {
            let e = b.refs(ReferenceKind::PaymentStatus).iter().find(|e| &e.code == code).unwrap();
            assert!(e.attr_bool("paymentComplete"));
        }
    }
}
