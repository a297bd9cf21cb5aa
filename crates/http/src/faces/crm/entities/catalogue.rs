//! The catalogue: products with their offers, stock and prices uploads, product groups.

use super::REF;
use crate::kit::{Kind, Members};

use Kind::{Boolean, Entities, Entity, Integer, Number, Object, Text, Texts};

/// A product's kind.
const PRODUCT_TYPES: &[&str] = &["product", "service"];

/// An offer made with a product (`store/products/batch/create`); `properties` lie over its
/// product's (`{code: value}`, `{code: {name, value}}` or `[{code, name, value}]`).
pub const NEW_OFFER: Members = &[
    ("externalId", Text),
    ("xmlId", Text),
    ("name", Text),
    ("article", Text),
    ("price", Number),
    ("purchasePrice", Number),
    ("active", Boolean),
    ("properties", Object),
    ("images", Texts),
    ("unit", Entity(&[("code", Text)])),
    ("vatRate", Text),
    ("weight", Number),
    ("length", Number),
    ("width", Number),
    ("height", Number),
    ("barcode", Text),
];

/// A new product (`store/products/batch/create`). Without `offers` it gets one offer like itself,
/// which takes the offer members (`price`, `images`, `unit`, …) given on the product.
pub const NEW_PRODUCT: Members = &[
    ("externalId", Text),
    ("name", Text),
    ("article", Text),
    ("manufacturer", Text),
    ("description", Text),
    ("url", Text),
    ("imageUrl", Text),
    ("active", Boolean),
    ("popular", Boolean),
    ("stock", Boolean),
    ("novelty", Boolean),
    ("recommended", Boolean),
    ("markable", Boolean),
    ("type", Kind::OneOf(PRODUCT_TYPES)),
    ("properties", Object),
    ("groups", Entities(REF)),
    ("price", Number),
    ("purchasePrice", Number),
    ("offers", Entities(NEW_OFFER)),
    ("images", Texts),
    ("unit", Entity(&[("code", Text)])),
    ("vatRate", Text),
    ("weight", Number),
    ("length", Number),
    ("width", Number),
    ("height", Number),
    ("barcode", Text),
];

/// A product changed (`store/products/batch/edit`), named by `id` or `externalId`.
pub const PRODUCT_EDIT: Members = &[
    ("id", Integer),
    ("externalId", Text),
    ("name", Text),
    ("article", Text),
    ("manufacturer", Text),
    ("description", Text),
    ("url", Text),
    ("imageUrl", Text),
    ("active", Boolean),
    ("popular", Boolean),
    ("stock", Boolean),
    ("novelty", Boolean),
    ("recommended", Boolean),
    ("markable", Boolean),
    ("type", Kind::OneOf(PRODUCT_TYPES)),
    ("properties", Object),
    ("groups", Entities(REF)),
];

/// An offer's stock per store (`store/inventories/upload`).
pub const OFFER_STOCK: Members = &[
    ("id", Integer),
    ("externalId", Text),
    ("xmlId", Text),
    ("stores", Entities(&[("code", Text), ("available", Integer), ("purchasePrice", Number)])),
];

/// An offer's prices by price type (`store/prices/upload`); `remove` drops one.
pub const OFFER_PRICES: Members = &[
    ("id", Integer),
    ("externalId", Text),
    ("xmlId", Text),
    ("site", Text),
    ("prices", Entities(&[("code", Text), ("price", Number), ("remove", Boolean)])),
];

/// A product group (`store/product-groups/create`, its edit); its parent by id or external id.
pub const PRODUCT_GROUP: Members = &[
    ("name", Text),
    ("externalId", Text),
    ("description", Text),
    ("active", Boolean),
    ("ordering", Integer),
    ("parentId", Integer),
    ("parentExternalId", Text),
    ("site", Text),
];
