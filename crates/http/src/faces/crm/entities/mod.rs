//! The members of the entities CRM writes carry as JSON (`order={…}`, `customer={…}`, …), for the
//! OpenAPI document: what the handlers, the domain readers and the store take from each document, by
//! name and type, nested objects and lists included. Each entity's schema stays open: RetailCRM ignores
//! members it does not know, and so does torg (it keeps them as given), so a member not listed is never
//! refused. Where torg reads fewer members than RetailCRM documents, the lists say what torg reads.
//!
//! The lists are the wire's, not the domain types' (those keep unknown members in a flattened map and
//! read some members by hand), so they are written here, by entity group; the tests below hold them to
//! the member lists the domain checks documents against and fail on a CRM write that declares an
//! object or a list without its members (bar a short list of free-form members), and `crm_meta` in the
//! HTTP suite holds them to real writes.

use crate::kit::{Kind, Members};
use torg_domain::corporate::CONTRAGENT_TYPES;

use Kind::{Date, Integer, Text};

mod catalogue;
mod integration;
mod orders;
mod people;
mod references;

pub use catalogue::*;
pub use integration::*;
pub use orders::*;
pub use people::*;
pub use references::*;

/// An entity named by `id` or `externalId`.
pub const REF: Members = &[("id", Integer), ("externalId", Text)];

/// An entity named by its `id` alone (what is combined).
pub const ID: Members = &[("id", Integer)];

/// An order named by `id`, `externalId` (on the site) or `number`.
pub const ORDER_REF: Members = &[("id", Integer), ("externalId", Text), ("number", Text)];

/// A catalogue offer named by `id`, `externalId` or `xmlId`.
pub const OFFER_REF: Members = &[("id", Integer), ("externalId", Text), ("xmlId", Text)];

/// A postal address (a customer's, a delivery's, a corporate customer's).
pub const ADDRESS: Members = &[
    ("index", Text),
    ("countryIso", Text),
    ("region", Text),
    ("regionId", Integer),
    ("city", Text),
    ("cityId", Integer),
    ("cityType", Text),
    ("street", Text),
    ("streetId", Integer),
    ("streetType", Text),
    ("building", Text),
    ("flat", Text),
    ("floor", Integer),
    ("block", Integer),
    ("house", Text),
    ("housing", Text),
    ("metro", Text),
    ("intercomCode", Text),
    ("notes", Text),
    ("text", Text),
];

/// Legal details (`contragent`) of an order, a customer or a company.
pub const CONTRAGENT: Members = &[
    ("contragentType", Kind::OneOf(CONTRAGENT_TYPES)),
    ("legalName", Text),
    ("legalAddress", Text),
    ("INN", Text),
    ("OKPO", Text),
    ("KPP", Text),
    ("OGRN", Text),
    ("OGRNIP", Text),
    ("certificateNumber", Text),
    ("certificateDate", Date),
    ("BIK", Text),
    ("bank", Text),
    ("bankAddress", Text),
    ("corrAccount", Text),
    ("bankAccount", Text),
];

/// Where a buyer came from (`source`), as the list filters and costs read it.
pub const SOURCE: Members =
    &[("source", Text), ("medium", Text), ("campaign", Text), ("keyword", Text), ("content", Text)];

/// A pair of `fix-external-ids`: the entity's id and the external id it gets.
pub const ID_PAIR: Members = &[("id", Integer), ("externalId", Text)];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::{Field, Shape};
    use Kind::{Entities, Entity, Object};

    /// Members of CRM write entities that are free-form by design, and CRM JSON fields whose members torg
    /// does not read, each with why: `(what, why)`, where `what` is a member's path ending (`customFields`
    /// matches `order.customFields` and `customerCorporate.companies[].customFields`) or a whole
    /// `METHOD /path field`.
    const FREE_FORM: &[(&str, &str)] = &[
        ("customFields", "values keyed by the account's own custom field codes"),
        ("properties", "a line's or an offer's properties keyed by the caller's own codes"),
        ("tags", "a tag is its name or {name, color}"),
        ("extraData", "the delivery service's own data, kept and shown back as given"),
        ("actions", "a module's actions mapped to its own paths, kept as given"),
        ("integrations.delivery", "a delivery integration's configuration, kept as given"),
        ("integrations.mgTransport", "a messenger transport's configuration, kept as given"),
        ("refunds", "an imported invoice's refunds, kept and shown back as given"),
        ("POST /api/v5/delivery/calculate order", "costs come from the delivery types book; no member is read"),
    ];

    /// The member names of `members`, nested ones as `parent.child` (list members as `parent[].child`).
    fn paths(members: Members) -> Vec<String> {
        let mut out = Vec::new();
        for (name, kind) in members {
            out.push((*name).to_string());
            let (inner, sep) = match kind {
                Entity(m) => (*m, "."),
                Entities(m) => (*m, "[]."),
                _ => continue,
            };
            out.extend(paths(inner).into_iter().map(|p| format!("{name}{sep}{p}")));
        }
        out
    }

    fn names(members: Members) -> Vec<&'static str> {
        members.iter().map(|(n, _)| *n).collect()
    }

    fn nested(members: Members, name: &str) -> Members {
        match members.iter().find(|(n, _)| *n == name).map(|(_, k)| *k) {
            Some(Entity(m) | Entities(m)) => m,
            other => panic!("{name} is {other:?}"),
        }
    }

    /// Every member the domain checks a document's members against is described, with the type the
    /// check reads.
    #[test]
    fn the_domain_checks_only_described_members() {
        for (name, _) in torg_domain::order::STRING_FIELDS {
            assert!(ORDER.contains(&(name, Text)), "order {name}");
        }
        for (name, _) in torg_domain::corporate::ADDRESS_TEXT {
            assert!(CORPORATE_ADDRESS.contains(&(name, Text)), "corporate address {name}");
        }
        for name in torg_domain::cost::SOURCE_MEMBERS {
            assert!(SOURCE.contains(&(name, Text)), "source {name}");
        }
        for entity in [ORDER, CUSTOMER, CORPORATE] {
            assert_eq!(nested(entity, "source"), SOURCE);
        }
        assert_eq!(nested(ORDER, "items"), ORDER_ITEM);
        assert_eq!(nested(nested(ORDER, "delivery"), "address"), ADDRESS);
        for name in names(CORPORATE_ADDRESS).into_iter().filter(|n| !["externalId", "name", "isMain"].contains(n)) {
            assert!(names(ADDRESS).contains(&name), "{name} is an address member");
        }
        let types: Vec<&str> = torg_domain::custom_field::FieldType::ALL.iter().map(|t| t.code()).collect();
        assert_eq!(types, FIELD_TYPES, "custom field types");
        for status in INVOICE_STATUSES {
            assert!(crate::faces::crm::payment_api::billing_status("s", status).is_ok(), "{status}");
        }
        assert!(crate::faces::crm::payment_api::billing_status("s", "paid").is_err());
    }

    #[test]
    fn nested_members_are_named_by_path() {
        let all = paths(ORDER);
        for p in ["items", "items[].offer.externalId", "delivery.address.city", "payments[].amount", "customer.id"] {
            assert!(all.iter().any(|x| x == p), "{p} in {all:?}");
        }
        let all = paths(NEW_PRODUCT);
        for p in ["offers[].unit.code", "groups[].externalId", "offers[].properties"] {
            assert!(all.iter().any(|x| x == p), "{p} in {all:?}");
        }
    }

    /// The members of `kind` (at `at`) that hold an object or a list without saying what is in it,
    /// each as its path.
    fn unspoken(kind: Kind, at: &str, out: &mut Vec<String>) {
        let members = match kind {
            Kind::Json(Shape::Object(m) | Shape::List(m)) | Entity(m) | Entities(m) => m,
            Object | Kind::List | Kind::Any => {
                out.push(at.to_string());
                return;
            }
            _ => return,
        };
        if members.is_empty() {
            out.push(at.to_string());
        }
        for (name, kind) in members {
            let list = if matches!(kind, Entities(_)) { "[]" } else { "" };
            unspoken(*kind, &format!("{at}.{name}{list}"), out);
        }
    }

    /// Whether `what`, an entry of `FREE_FORM`, names the member at `path` (`METHOD /path field.member…`).
    fn names_member(what: &str, path: &str) -> bool {
        let bare = path.replace("[]", "");
        bare == what || bare.ends_with(&format!(".{what}"))
    }

    /// Whether `FREE_FORM` lets the member at `path` say nothing of its members.
    fn free_form(path: &str) -> bool {
        FREE_FORM.iter().any(|(what, _)| names_member(what, path))
    }

    /// The CRM writes' JSON fields and members that hold an object or a list without its members and
    /// are not free-form by design.
    fn undescribed(fields: &[(String, Field)]) -> Vec<String> {
        let mut out = Vec::new();
        for (route, field) in fields {
            let list = matches!(field.kind, Kind::Json(Shape::List(_)));
            let at = format!("{route} {}{}", field.name, if list { "[]" } else { "" });
            let mut found = Vec::new();
            unspoken(field.kind, &at, &mut found);
            out.extend(found.into_iter().filter(|p| !free_form(p)));
        }
        out
    }

    /// Every JSON field of a CRM route, with its route as `METHOD /path`.
    fn crm_json_fields() -> Vec<(String, Field)> {
        crate::fields::declared()
            .iter()
            .filter(|d| d.face == "crm")
            .flat_map(|d| {
                d.fields
                    .iter()
                    .filter(|f| matches!(f.kind, Kind::Json(Shape::Object(_) | Shape::List(_))))
                    .map(move |f| (format!("{} {}", d.method, d.path), *f))
            })
            .collect()
    }

    /// A CRM write describes the entities it takes member by member, nested ones included, but for
    /// the few members that are free-form by design (`FREE_FORM`, each with its reason).
    #[test]
    fn every_crm_write_describes_its_entities_by_member() {
        let fields = crm_json_fields();
        assert!(fields.len() > 80, "{}", fields.len());
        let found = undescribed(&fields);
        assert!(found.is_empty(), "CRM JSON fields or members without their members:\n{}", found.join("\n"));
        // Each allowance is used.
        let mut all = Vec::new();
        for (route, f) in &fields {
            unspoken(f.kind, &format!("{route} {}", f.name), &mut all);
        }
        for (what, why) in FREE_FORM {
            let used = all.iter().any(|p| names_member(what, p));
            assert!(used, "{what} ({why}) is allowed but nothing needs it");
        }
    }

    /// The check fails on a field without members, on a member without its own, and on a free-form
    /// member that is not allowed.
    #[test]
    fn an_entity_without_members_is_found() {
        const EMPTY: Members = &[];
        let route = "POST /api/v5/x/create".to_string();
        let fields = vec![
            (route.clone(), Field::json_object("thing")),
            (route.clone(), Field::entities("things", &[("id", Integer), ("parts", Entities(EMPTY))])),
            (route.clone(), Field::entity("box", &[("inside", Object), ("customFields", Object)])),
        ];
        assert_eq!(
            undescribed(&fields),
            [
                "POST /api/v5/x/create thing",
                "POST /api/v5/x/create things[].parts[]",
                "POST /api/v5/x/create box.inside",
            ]
        );
    }
}
