//! Combining duplicates: an order into another (its lines by a technique, its payments and invoices
//! moved), customers into one (their orders, notes and keys moved). The combined entities are deleted;
//! their history ends with a `deleted` record naming what they were combined into, and a later lookup
//! of them is answered with that too (`combined_entities`).

use crate::db;
use crate::history::{Entity, NewRecord};
use crate::orders::order_stub;
use crate::{Store, StoreResult, Tx};
use serde_json::json;
use torg_domain::combine::{self, Technique, combine_items};
use torg_domain::history::{Actor, diff_orders};
use torg_domain::order::Order;

/// What a lookup of a combined entity finds: the entity it went into.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedTo {
    /// Internal id of the surviving entity.
    pub id: i64,
    /// Its external id.
    pub external_id: Option<String>,
}

impl Store {
    /// Combines order `source` into order `result` by `technique`, in one transaction: the result gets
    /// the lines the technique gives, the source's payments and invoices; the source's stock is
    /// released and it is deleted. Both must be on `allowed_sites`; an order with packs is refused
    /// (its packs hold stock of its own lines).
    pub async fn combine_orders(
        &self,
        source: i64,
        result: i64,
        technique: Technique,
        actor: Actor,
        allowed_sites: &[String],
    ) -> StoreResult<Order> {
        combine::check_orders_distinct(source, result)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let mut found = self.load_orders(&mut tx, &[source, result]).await?;
        found.retain(|o| allowed_sites.contains(&o.site));
        let (from, old) = combine::pick_orders(&found, source, result)?;
        let packs: i64 =
            db::query_scalar("SELECT COUNT(*) FROM packs WHERE order_id = $1").bind(source).fetch_one(&mut *tx).await?;
        combine::check_no_packs(packs)?;
        let books = self.books_in(&mut tx).await?;
        let mut new = old.clone();
        new.items = combine_items(&old.items, &from.items, technique);
        new.payments.extend(from.payments.iter().cloned());
        // Bonuses the source spent pay for the combined order; its bonus operations (what it spent
        // and earned, on whichever account) now name the result.
        new.bonuses_charge_total += from.bonuses_charge_total;
        // The source goes first: its stock is released before the result's lines reserve theirs.
        self.sync_reservations(&mut tx, source, &[], false).await?;
        db::query("UPDATE payments SET order_id = $1 WHERE order_id = $2")
            .bind(result)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        db::query("UPDATE invoices SET order_id = $1 WHERE order_id = $2")
            .bind(result)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        // Tasks and costs of the order go with it (migration 0014).
        for sql in [
            "UPDATE tasks SET order_id = $1, site = (SELECT site FROM orders WHERE id = $1) WHERE order_id = $2",
            "UPDATE costs SET order_id = $1 WHERE order_id = $2",
            "UPDATE bonus_operations SET order_id = $1 WHERE order_id = $2",
            // Files attached to it and its place in shipments (migration 0020) likewise.
            "UPDATE file_attachments SET order_id = $1 WHERE order_id = $2",
            "DELETE FROM delivery_shipment_orders WHERE order_id = $2
             AND shipment_id IN (SELECT shipment_id FROM delivery_shipment_orders WHERE order_id = $1)",
            "UPDATE delivery_shipment_orders SET order_id = $1 WHERE order_id = $2",
        ] {
            db::query(sql).bind(result).bind(source).execute(&mut *tx).await?;
        }
        for table in ["order_custom_fields", "order_items"] {
            db::query(format!("DELETE FROM {table} WHERE order_id = $1")).bind(source).execute(&mut *tx).await?;
        }
        db::query("DELETE FROM orders WHERE id = $1").bind(source).execute(&mut *tx).await?;
        self.note_combined(&mut tx, "order", &from.site, source, from.external_id.as_deref(), result, now).await?;

        let mut items = std::mem::take(&mut new.items);
        self.write_items(&mut tx, result, &old.items, &mut items, now, &[]).await?;
        new.items = items;
        self.sync_reservations(&mut tx, result, &books.wanted_reservations(&new), false).await?;
        let changes = diff_orders(&old, &new);
        self.write_order_row(&mut tx, &new, books.paid(), now, crate::orders::RowWrite::Update).await?;
        self.write_order_changes(&mut tx, result, &new, &changes, actor, now).await?;
        let mut gone = order_stub(&from);
        gone["combinedTo"] = json!({ "id": new.id, "externalId": new.external_id, "number": new.number });
        self.write_history(
            &mut tx,
            Entity::Order,
            now,
            &[NewRecord { entity_id: source, actor, created: false, deleted: true, change: None, entity: &gone }],
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Combines `sources` into customer `result` in one transaction: their orders (as buyer and as
    /// contact person), notes, tasks, files, keys, places as a corporate customer's contact and loyalty
    /// accounts move to the result, and they are deleted. All must be on `allowed_sites`.
    pub async fn combine_customers(
        &self,
        sources: &[i64],
        result: i64,
        actor: Actor,
        allowed_sites: &[String],
    ) -> StoreResult<()> {
        combine::check_customers_distinct(sources, result)?;
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let rows: Vec<(i64, String, Option<String>)> = {
            let mut q = crate::sql::Sql::new("SELECT id, site, external_id FROM customers WHERE id IN ");
            q.bind_list(sources.iter().chain([&result]).copied().map(crate::sql::Arg::Int));
            q.query_as().fetch_all(&mut *tx).await?
        };
        let visible = |id: i64| rows.iter().find(|(i, site, _)| *i == id && allowed_sites.contains(site));
        let visible_ids: Vec<i64> =
            rows.iter().filter(|(_, site, _)| allowed_sites.contains(site)).map(|(id, _, _)| *id).collect();
        combine::check_customers_found(sources, result, &visible_ids)?;
        let (_, _, result_external) = visible(result).cloned().unwrap_or_default();
        for &id in sources {
            let (_, site, external) = visible(id).cloned().unwrap_or_default();
            for sql in [
                "UPDATE orders SET customer_id = $1 WHERE customer_id = $2",
                "UPDATE customer_notes SET customer_id = $1 WHERE customer_id = $2",
                "UPDATE api_keys SET customer_id = $1 WHERE customer_id = $2",
                "UPDATE tasks SET customer_id = $1, site = (SELECT site FROM customers WHERE id = $1) WHERE customer_id = $2",
                "UPDATE file_attachments SET customer_id = $1 WHERE customer_id = $2",
                "UPDATE orders SET contact_id = $1 WHERE contact_id = $2",
                // A corporate customer's contact person: the result takes the source's place, or
                // keeps its own where it was a contact already (and is the main one if either was).
                "UPDATE corporate_contacts SET is_main = 1 WHERE customer_id = $1 AND corporate_id IN
                 (SELECT corporate_id FROM corporate_contacts WHERE customer_id = $2 AND is_main = 1)",
                "DELETE FROM corporate_contacts WHERE customer_id = $2 AND corporate_id IN
                 (SELECT corporate_id FROM corporate_contacts WHERE customer_id = $1)",
                "UPDATE corporate_contacts SET customer_id = $1 WHERE customer_id = $2",
                // Loyalty accounts: one a customer and programme. Where the result has one in the
                // source's programme, the source's bonuses (credits, charges, the lots they left) and
                // paid sum join it and the source's account goes; elsewhere the account moves whole.
                "UPDATE bonus_operations SET account_id = (SELECT r.id FROM loyalty_accounts r
                 JOIN loyalty_accounts s ON s.loyalty_id = r.loyalty_id
                 WHERE s.id = bonus_operations.account_id AND r.customer_id = $1)
                 WHERE account_id IN (SELECT s.id FROM loyalty_accounts s WHERE s.customer_id = $2
                 AND s.loyalty_id IN (SELECT loyalty_id FROM loyalty_accounts WHERE customer_id = $1))",
                "UPDATE loyalty_accounts SET orders_sum = orders_sum + (SELECT COALESCE(SUM(s.orders_sum), 0)
                 FROM loyalty_accounts s WHERE s.customer_id = $2 AND s.loyalty_id = loyalty_accounts.loyalty_id)
                 WHERE customer_id = $1",
                "DELETE FROM loyalty_accounts WHERE customer_id = $2 AND loyalty_id IN
                 (SELECT loyalty_id FROM loyalty_accounts WHERE customer_id = $1)",
                "UPDATE loyalty_accounts SET customer_id = $1 WHERE customer_id = $2",
            ] {
                db::query(sql).bind(result).bind(id).execute(&mut *tx).await?;
            }
            db::query("DELETE FROM customer_custom_fields WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
            // The surviving customer keeps its own cart, and gains the favourites it did not have.
            db::query("DELETE FROM carts WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
            db::query(
                "UPDATE favorites SET customer_id = $1 WHERE customer_id = $2
                 AND offer_id NOT IN (SELECT offer_id FROM favorites WHERE customer_id = $1)",
            )
            .bind(result)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            db::query("DELETE FROM favorites WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
            db::query("DELETE FROM customers WHERE id = $1").bind(id).execute(&mut *tx).await?;
            self.note_combined(&mut tx, "customer", &site, id, external.as_deref(), result, now).await?;
            let gone = json!({
                "id": id, "externalId": external, "site": site,
                "combinedTo": { "id": result, "externalId": result_external },
            });
            self.write_history(
                &mut tx,
                Entity::Customer,
                now,
                &[NewRecord { entity_id: id, actor, created: false, deleted: true, change: None, entity: &gone }],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn note_combined(
        &self,
        tx: &mut Tx,
        entity: &str,
        site: &str,
        id: i64,
        external_id: Option<&str>,
        into: i64,
        now: i64,
    ) -> StoreResult<()> {
        // Entities combined into this one earlier now point at where it went.
        db::query("UPDATE combined_entities SET into_id = $1 WHERE entity = $2 AND into_id = $3")
            .bind(into)
            .bind(entity)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        db::query(
            "INSERT INTO combined_entities (entity, site, old_id, old_external_id, into_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entity)
        .bind(site)
        .bind(id)
        .bind(external_id)
        .bind(into)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Where a combined order or customer went: looked up by its old id, or by its old external id on
    /// a site.
    pub async fn combined_into(
        &self,
        entity: &str,
        id: Option<i64>,
        site_external: Option<(&str, &str)>,
    ) -> StoreResult<Option<CombinedTo>> {
        let into: Option<i64> = match (id, site_external) {
            (Some(id), _) => {
                db::query_scalar("SELECT into_id FROM combined_entities WHERE entity = $1 AND old_id = $2")
                    .bind(entity)
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
            }
            (None, Some((site, ext))) => {
                db::query_scalar(
                    "SELECT into_id FROM combined_entities WHERE entity = $1 AND site = $2 AND old_external_id = $3
                     ORDER BY created_at DESC LIMIT 1",
                )
                .bind(entity)
                .bind(site)
                .bind(ext)
                .fetch_optional(self.reader())
                .await?
            }
            (None, None) => None,
        };
        let Some(into) = into else { return Ok(None) };
        let table = match entity {
            "order" => "orders",
            "customer_corporate" => "corporate_customers",
            _ => "customers",
        };
        let external: Option<Option<String>> =
            db::query_scalar(format!("SELECT external_id FROM {table} WHERE id = $1"))
                .bind(into)
                .fetch_optional(self.reader())
                .await?;
        Ok(external.map(|external_id| CombinedTo { id: into, external_id }))
    }
}

impl Store {
    /// Links orders (two or more, on `allowed_sites`) with a comment: each order's `links` gains one
    /// entry per other order of the link (`{comment, createdAt, order: {id, number, externalId}}`).
    pub async fn link_orders(&self, ids: &[i64], comment: Option<&str>, allowed_sites: &[String]) -> StoreResult<()> {
        let now = torg_domain::time::now();
        let mut tx = self.begin().await?;
        let orders = self.load_orders(&mut tx, ids).await?;
        let visible: Vec<i64> = orders.iter().filter(|o| allowed_sites.contains(&o.site)).map(|o| o.id).collect();
        combine::check_linked_found(ids, &visible)?;
        let books = self.books_in(&mut tx).await?;
        for o in &orders {
            let mut new = o.clone();
            let mut links = match new.attrs.remove("links") {
                Some(serde_json::Value::Array(l)) => l,
                _ => Vec::new(),
            };
            for other in orders.iter().filter(|x| x.id != o.id) {
                links.push(json!({
                    "comment": comment,
                    "createdAt": now,
                    "order": { "id": other.id, "number": other.number, "externalId": other.external_id },
                }));
            }
            new.attrs.insert("links".into(), serde_json::Value::Array(links));
            self.write_order_row(&mut tx, &new, books.paid(), now, crate::orders::RowWrite::Update).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
