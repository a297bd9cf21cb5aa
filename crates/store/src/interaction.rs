//! Customer interaction: the cart a shop reports for a customer (set, read, cleared when it became an
//! order or was emptied) and the customer's favourite offers.

use crate::db;
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use torg_domain::money::{from_units, to_units};
use torg_domain::{DomainError, FieldErrors};

/// An offer as a cart line or a favourite names it: by id, external id or XML id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OfferRef {
    /// Internal id.
    pub id: Option<i64>,
    /// External id.
    pub external_id: Option<String>,
    /// XML id.
    pub xml_id: Option<String>,
}

/// A cart line as given.
#[derive(Debug, Clone, PartialEq)]
pub struct CartLine {
    /// The offer.
    pub offer: OfferRef,
    /// Units.
    pub quantity: Decimal,
    /// Unit price in the shop.
    pub price: Decimal,
}

/// A cart to store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CartInput {
    /// The shop's id of the cart.
    pub external_id: Option<String>,
    /// Currency code.
    pub currency: Option<String>,
    /// Where the customer can get back to the cart.
    pub link: Option<String>,
    /// When the customer left it (Unix seconds).
    pub dropped_at: Option<i64>,
    /// Its lines.
    pub items: Vec<CartLine>,
}

/// A stored cart with its lines' offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    /// The shop's id of the cart.
    pub external_id: Option<String>,
    /// Currency code.
    pub currency: Option<String>,
    /// Link back to the cart.
    pub link: Option<String>,
    /// When it was left (Unix seconds).
    pub dropped_at: Option<i64>,
    /// When it was cleared (Unix seconds).
    pub cleared_at: Option<i64>,
    /// The order it became, when cleared by one.
    pub order_id: Option<i64>,
    /// `(line number, offer, quantity, price)`; the offer as `{id, externalId, xmlId, name, article,
    /// displayName}`.
    pub items: Vec<(usize, Value, Decimal, Decimal)>,
}

/// A favourite offer and when it was added.
#[derive(Debug, Clone, PartialEq)]
pub struct Favorite {
    /// The offer as `{id, externalId, xmlId, name, article}`.
    pub offer: Value,
    /// When (Unix seconds).
    pub created_at: i64,
}

type OfferRow = (i64, Option<String>, Option<String>, String, Option<String>);

fn offer_json((id, external_id, xml_id, name, article): &OfferRow) -> Value {
    json!({ "id": id, "externalId": external_id, "xmlId": xml_id, "name": name, "displayName": name, "article": article })
}

impl Store {
    /// The offer a reference names, if any.
    async fn offer_by_ref(&self, conn: impl Into<db::Exec<'_>>, r: &OfferRef) -> StoreResult<Option<i64>> {
        let mut q = Sql::new("SELECT id FROM offers WHERE ");
        if let Some(id) = r.id {
            q.push("id = ").bind(Arg::Int(id));
        } else if let Some(e) = &r.external_id {
            q.push("external_id = ").bind(Arg::Text(e.clone()));
        } else if let Some(x) = &r.xml_id {
            q.push("xml_id = ").bind(Arg::Text(x.clone()));
        } else {
            return Ok(None);
        }
        let found: Option<(i64,)> = q.query_as().fetch_optional(conn).await?;
        Ok(found.map(|f| f.0))
    }

    /// Replaces a customer's cart; every line's offer must exist (`cart.items[i].offer`).
    pub async fn set_cart(&self, customer_id: i64, site: &str, cart: &CartInput) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let mut errors = FieldErrors::new();
        let mut lines = Vec::with_capacity(cart.items.len());
        for (i, line) in cart.items.iter().enumerate() {
            match self.offer_by_ref(&mut *tx, &line.offer).await? {
                Some(id) => lines.push(json!({
                    "offer": id, "quantity": to_units(line.quantity), "price": to_units(line.price),
                })),
                None => errors.extend([torg_domain::order::unknown_cart_offer(i)]),
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors).into());
        }
        db::query("DELETE FROM carts WHERE customer_id = $1").bind(customer_id).execute(&mut *tx).await?;
        db::query(
            "INSERT INTO carts (customer_id, site, external_id, currency, link, dropped_at, items, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(customer_id)
        .bind(site)
        .bind(&cart.external_id)
        .bind(&cart.currency)
        .bind(&cart.link)
        .bind(cart.dropped_at)
        .bind(Value::Array(lines).to_string())
        .bind(torg_domain::time::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Clears a customer's cart (the order it became, when given, is kept with it); false when the
    /// customer has none.
    pub async fn clear_cart(&self, customer_id: i64, cleared_at: i64, order_id: Option<i64>) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = db::query(
            "UPDATE carts SET items = '[]', cleared_at = $1, order_id = $2, updated_at = $1 WHERE customer_id = $3",
        )
        .bind(cleared_at)
        .bind(order_id)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// A customer's cart with its lines' offers.
    pub async fn get_cart(&self, customer_id: i64) -> StoreResult<Option<Cart>> {
        type Row = (Option<String>, Option<String>, Option<String>, Option<i64>, Option<i64>, Option<i64>, String);
        let row: Option<Row> = db::query_as(
            "SELECT external_id, currency, link, dropped_at, cleared_at, order_id, items FROM carts WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(self.reader())
        .await?;
        let Some((external_id, currency, link, dropped_at, cleared_at, order_id, items)) = row else {
            return Ok(None);
        };
        let lines: Vec<Value> = serde_json::from_str(&items).unwrap_or_default();
        let ids: Vec<i64> = lines.iter().filter_map(|l| l["offer"].as_i64()).collect();
        let offers = self.offers_by_id(&ids).await?;
        let items = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let offer = offers.iter().find(|o| Some(o.0) == l["offer"].as_i64())?;
                Some((
                    i + 1,
                    offer_json(offer),
                    from_units(l["quantity"].as_i64().unwrap_or_default()),
                    from_units(l["price"].as_i64().unwrap_or_default()),
                ))
            })
            .collect();
        Ok(Some(Cart { external_id, currency, link, dropped_at, cleared_at, order_id, items }))
    }

    async fn offers_by_id(&self, ids: &[i64]) -> StoreResult<Vec<OfferRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT id, external_id, xml_id, name, article FROM offers WHERE id IN ");
        q.bind_list(ids.iter().copied().map(Arg::Int));
        Ok(q.query_as().fetch_all(self.reader()).await?)
    }

    /// A customer's favourite offers, newest first.
    pub async fn favorites(&self, customer_id: i64) -> StoreResult<Vec<Favorite>> {
        let rows: Vec<(i64, i64)> = db::query_as(
            "SELECT offer_id, created_at FROM favorites WHERE customer_id = $1 ORDER BY created_at DESC, offer_id",
        )
        .bind(customer_id)
        .fetch_all(self.reader())
        .await?;
        let offers = self.offers_by_id(&rows.iter().map(|r| r.0).collect::<Vec<_>>()).await?;
        Ok(rows
            .iter()
            .filter_map(|(offer, created_at)| {
                let o = offers.iter().find(|o| o.0 == *offer)?;
                Some(Favorite { offer: offer_json(o), created_at: *created_at })
            })
            .collect())
    }

    /// Adds (`add`) or removes a favourite offer; an unknown offer is refused under `favorite.offer`.
    pub async fn change_favorite(&self, customer_id: i64, offer: &OfferRef, add: bool) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let Some(offer_id) = self.offer_by_ref(&mut *tx, offer).await? else {
            return Err(torg_domain::order::unknown_favorite_offer().into());
        };
        if add {
            db::query(
                "INSERT INTO favorites (customer_id, offer_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (customer_id, offer_id) DO NOTHING",
            )
            .bind(customer_id)
            .bind(offer_id)
            .bind(torg_domain::time::now())
            .execute(&mut *tx)
            .await?;
        } else {
            db::query("DELETE FROM favorites WHERE customer_id = $1 AND offer_id = $2")
                .bind(customer_id)
                .bind(offer_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
