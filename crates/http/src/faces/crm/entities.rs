//! The members of the entities CRM writes carry as JSON (`order={…}`, `customer={…}`, …), for the
//! OpenAPI document: what the domain readers and the store take from each document, by name and type,
//! nested objects and lists included. Each entity's schema stays open: RetailCRM ignores members it
//! does not know, and so does torg (it keeps them as given), so a member not listed is never refused.
//!
//! The lists are the wire's, not the domain types' (those keep unknown members in a flattened map and
//! read some members by hand), so they are written here; the tests below hold them to the member
//! lists the domain checks documents against, and `crm_meta` in the HTTP suite to real writes.

use crate::kit::{Kind, Members};
use torg_domain::corporate::CONTRAGENT_TYPES;
use torg_domain::task::PERFORMER_TYPES;

use Kind::{Boolean, Date, DateTime, Entities, Entity, Integer, Number, Object, Text};

/// An entity named by `id` or `externalId`.
pub const REF: Members = &[("id", Integer), ("externalId", Text)];

/// An order named by `id`, `externalId` (on the site) or `number`.
pub const ORDER_REF: Members = &[("id", Integer), ("externalId", Text), ("number", Text)];

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

/// A catalogue offer a line names.
const OFFER_REF: Members = &[("id", Integer), ("externalId", Text), ("xmlId", Text)];

/// An order line.
pub const ORDER_ITEM: Members = &[
    ("id", Integer),
    ("offer", Entity(OFFER_REF)),
    ("productName", Text),
    ("initialPrice", Number),
    ("purchasePrice", Number),
    ("quantity", Number),
    ("status", Text),
    ("discountManualAmount", Number),
    ("discountManualPercent", Number),
    ("vatRate", Text),
    ("comment", Text),
    ("warehouse", Text),
    ("properties", Object),
];

/// An order's delivery.
pub const DELIVERY: Members = &[
    ("code", Text),
    ("cost", Number),
    ("netCost", Number),
    ("date", Date),
    ("time", Entity(&[("from", Text), ("to", Text), ("custom", Text)])),
    ("address", Entity(ADDRESS)),
    ("service", Entity(&[("code", Text), ("name", Text)])),
    ("data", Entity(&[("trackNumber", Text), ("externalId", Text), ("courierId", Integer), ("status", Text)])),
    ("vatRate", Text),
];

/// A payment, inside an order or on its own (`payment` of `orders/payments/create`, which names its
/// order too).
pub const PAYMENT: Members = &[
    ("externalId", Text),
    ("type", Text),
    ("status", Text),
    ("amount", Number),
    ("paidAt", DateTime),
    ("comment", Text),
    ("order", Entity(ORDER_REF)),
];

/// Who an order is for: an individual customer, or a corporate one with `type`.
const ORDER_CUSTOMER: Members =
    &[("id", Integer), ("externalId", Text), ("type", Kind::OneOf(&["customer", "customer_corporate"]))];

/// An order (`orders/create`, `orders/{externalId}/edit`, `orders/upload`).
pub const ORDER: Members = &[
    ("externalId", Text),
    ("number", Text),
    ("createdAt", DateTime),
    ("status", Text),
    ("statusComment", Text),
    ("orderType", Text),
    ("orderMethod", Text),
    ("countryIso", Text),
    ("firstName", Text),
    ("lastName", Text),
    ("patronymic", Text),
    ("phone", Text),
    ("additionalPhone", Text),
    ("email", Text),
    ("managerId", Integer),
    ("managerComment", Text),
    ("customerComment", Text),
    ("discountManualAmount", Number),
    ("discountManualPercent", Number),
    ("shipmentStore", Text),
    ("shipmentDate", Date),
    ("shipped", Boolean),
    ("call", Boolean),
    ("expired", Boolean),
    ("uploadedToExternalStoreSystem", Boolean),
    ("customFields", Object),
    ("contragent", Entity(CONTRAGENT)),
    ("source", Entity(SOURCE)),
    ("customer", Entity(ORDER_CUSTOMER)),
    ("contact", Entity(REF)),
    ("company", Entity(REF)),
    ("items", Entities(ORDER_ITEM)),
    ("delivery", Entity(DELIVERY)),
    ("payments", Entities(PAYMENT)),
];

/// A customer (`customers/create`, `customers/{externalId}/edit`, `customers/upload`).
pub const CUSTOMER: Members = &[
    ("externalId", Text),
    ("firstName", Text),
    ("lastName", Text),
    ("patronymic", Text),
    ("email", Text),
    ("phones", Entities(&[("number", Text)])),
    ("managerId", Integer),
    ("vip", Boolean),
    ("bad", Boolean),
    ("sex", Kind::OneOf(&["male", "female"])),
    ("birthday", Date),
    ("address", Entity(ADDRESS)),
    ("customFields", Object),
    ("contragent", Entity(CONTRAGENT)),
    ("source", Entity(SOURCE)),
    ("tags", Kind::List),
    ("discountCardNumber", Text),
    ("personalDiscount", Number),
    ("browserId", Text),
    ("mgCustomerId", Text),
    ("commentary", Text),
    ("emailMarketingUnsubscribedAt", DateTime),
];

/// An address of a corporate customer.
pub const CORPORATE_ADDRESS: Members = &[
    ("externalId", Text),
    ("name", Text),
    ("isMain", Boolean),
    ("index", Text),
    ("countryIso", Text),
    ("region", Text),
    ("city", Text),
    ("cityType", Text),
    ("street", Text),
    ("streetType", Text),
    ("building", Text),
    ("flat", Text),
    ("house", Text),
    ("housing", Text),
    ("metro", Text),
    ("intercomCode", Text),
    ("notes", Text),
    ("text", Text),
];

/// A company of a corporate customer.
pub const COMPANY: Members = &[
    ("externalId", Text),
    ("name", Text),
    ("brand", Text),
    ("active", Boolean),
    ("isMain", Boolean),
    ("contragent", Entity(CONTRAGENT)),
    ("customFields", Object),
    ("address", Entity(REF)),
];

/// A contact person of a corporate customer: an individual customer, and the companies they act for.
pub const CONTACT: Members = &[
    ("customer", Entity(&[("id", Integer), ("externalId", Text), ("site", Text)])),
    ("isMain", Boolean),
    ("companies", Entities(&[("id", Integer), ("externalId", Text), ("company", Entity(REF))])),
];

/// A corporate customer (`customers-corporate/create`, its edit and upload); its addresses, companies
/// and contacts are taken on creation.
pub const CORPORATE: Members = &[
    ("externalId", Text),
    ("nickName", Text),
    ("managerId", Integer),
    ("vip", Boolean),
    ("bad", Boolean),
    ("customFields", Object),
    ("discountCardNumber", Text),
    ("personalDiscount", Number),
    ("source", Entity(SOURCE)),
    ("tags", Kind::List),
    ("addresses", Entities(CORPORATE_ADDRESS)),
    ("companies", Entities(COMPANY)),
    ("customerContacts", Entities(CONTACT)),
];

/// A task.
pub const TASK: Members = &[
    ("text", Text),
    ("commentary", Text),
    ("datetime", Text),
    ("complete", Boolean),
    ("performerId", Integer),
    ("performer", Integer),
    ("performerType", Kind::OneOf(PERFORMER_TYPES)),
    ("order", Entity(ORDER_REF)),
    ("customer", Entity(REF)),
    ("phone", Text),
    ("phoneSite", Text),
];

/// A cost.
pub const COST: Members = &[
    ("dateFrom", Date),
    ("dateTo", Date),
    ("summ", Number),
    ("costItem", Text),
    ("comment", Text),
    ("order", Entity(ORDER_REF)),
    ("userId", Integer),
    ("sites", Kind::Texts),
    ("source", Entity(SOURCE)),
];

/// A pack: a quantity of an order line shipped from a store.
pub const PACK: Members = &[
    ("itemId", Integer),
    ("store", Text),
    ("quantity", Number),
    ("purchasePrice", Number),
    ("shipmentDate", Date),
    ("invoiceNumber", Text),
    ("deliveryNoteNumber", Text),
];

/// A note about a customer (or a corporate customer).
pub const NOTE: Members = &[("text", Text), ("customer", Entity(REF)), ("managerId", Integer)];

/// A pair of `fix-external-ids`: the entity's id and the external id it gets.
pub const ID_PAIR: Members = &[("id", Integer), ("externalId", Text)];

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn nested_members_are_named_by_path() {
        let all = paths(ORDER);
        for p in ["items", "items[].offer.externalId", "delivery.address.city", "payments[].amount", "customer.id"] {
            assert!(all.iter().any(|x| x == p), "{p} in {all:?}");
        }
    }
}
