//! The order list's conditions beyond the first ones: the rest of the keys the official clients'
//! filters have, read from the order's columns, its payments, its customer, its user groups and its
//! facets (values inside the document, see [`crate::facets`]).

use super::{OrderFilter, like, push_range};
use crate::facets::{self, Owner, facet_eq, facet_flag, facet_in, facet_like, facet_range};
use crate::sql::{Arg, Sql};
use crate::{Store, StoreResult};
use serde_json::Value;
use torg_domain::delivery::DeliveryState;
use torg_domain::reference::ReferenceKind;

impl Store {
    /// Appends every condition of `f` that [`Store::list_orders`] does not write itself.
    pub(super) async fn push_more_conditions(&self, wh: &mut Sql, f: &OrderFilter) -> StoreResult<()> {
        if f.nothing {
            wh.push(" AND 1 = 0");
            return Ok(());
        }
        if let Some(id) = f.corporate_id {
            wh.push(" AND o.corporate_id = ").bind(Arg::Int(id));
        }
        match f.corporate {
            Some(true) => wh.push(" AND o.corporate_id IS NOT NULL"),
            Some(false) => wh.push(" AND o.corporate_id IS NULL"),
            None => wh,
        };
        if let Some(n) = &f.company_name {
            wh.push(" AND o.corporate_id IN (SELECT id FROM corporate_customers WHERE search LIKE ")
                .bind(Arg::Text(crate::sql::contains_pattern(&n.to_lowercase())))
                .push(" ESCAPE '\\')");
        }
        let o = Owner::Order;
        facet_in(wh, o, "o.id", "country", &f.countries);
        if let Some(r) = &f.region {
            like(wh, "o.region", r);
        }
        facet_eq(wh, o, "o.id", "index", f.index.as_ref());
        facet_like(wh, o, "o.id", "metro", f.metro.as_ref());
        // Times compare as `HH:MM` text.
        for (name, op, v) in
            [("delivery_time_from", ">=", &f.delivery_time_from), ("delivery_time_to", "<=", &f.delivery_time_to)]
        {
            if let Some(t) = v {
                wh.push(" AND o.id IN (SELECT order_id FROM order_facets WHERE name = ")
                    .bind(Arg::Text(name.into()))
                    .push(&format!(" AND value {op} "))
                    .bind(Arg::Text(t.clone()))
                    .push(")");
            }
        }
        // The customer's flags; an order without a customer has neither.
        for (column, v) in [("vip", f.vip), ("bad", f.bad)] {
            if let Some(v) = v {
                let not = if v { "" } else { " NOT" };
                wh.push(&format!(
                    " AND{not} EXISTS (SELECT 1 FROM customers fc WHERE fc.id = o.customer_id AND fc.{column} = 1)"
                ));
            }
        }
        facet_flag(wh, o, "o.id", "call", f.call);
        facet_flag(wh, o, "o.id", "expired", f.expired);
        facet_flag(wh, o, "o.id", "uploaded", f.uploaded_to_ext_store);
        facet_range(wh, o, "o.id", "delivery_net_cost", f.delivery_net_cost.min, f.delivery_net_cost.max);
        push_range(wh, "(o.total_summ - o.purchase_summ)", f.margin);
        facet_eq(wh, o, "o.id", "delivery_external_id", f.delivery_external_id.as_ref());
        facets::contragent(wh, o, "o.id", &f.contragent);
        facets::source(wh, o, "o.id", &f.source);
        facet_in(wh, o, "o.id", "delivery_service", &f.delivery_services);
        let couriers: Vec<String> = f.couriers.iter().map(ToString::to_string).collect();
        facet_in(wh, o, "o.id", "courier", &couriers);
        facets::manager_groups(wh, "o.manager_id", &f.manager_groups);
        if f.paid_from.is_some() || f.paid_to.is_some() {
            // Both ends hold for one payment.
            wh.push(" AND o.id IN (SELECT p.order_id FROM payments p WHERE p.paid_at IS NOT NULL");
            for (op, v) in [(">=", f.paid_from), ("<=", f.paid_to)] {
                if let Some(t) = v {
                    wh.push(&format!(" AND p.paid_at {op} ")).bind(Arg::Int(t));
                }
            }
            wh.push(")");
        }
        if f.full_paid_from.is_some() || f.full_paid_to.is_some() {
            // Fully paid: its paid payments reach the total; when: the last of them (its payment
            // date, else when it was recorded).
            let paid = self.books().await?.paid().clone();
            for (op, v) in [(">=", f.full_paid_from), ("<=", f.full_paid_to)] {
                if let Some(t) = v {
                    wh.push(
                        " AND o.total_summ > 0 AND o.prepay_sum >= o.total_summ
                         AND (SELECT MAX(COALESCE(p.paid_at, p.created_at)) FROM payments p WHERE p.order_id = o.id
                         AND p.status IN ",
                    )
                    .bind_list(paid.iter().cloned().map(Arg::Text))
                    .push(&format!(") {op} "))
                    .bind(Arg::Int(t));
                }
            }
        }
        // Dates are `Y-m-d` text, which compares in calendar order.
        for (column, op, v) in [
            ("o.delivery_date", ">=", &f.delivery_date_from),
            ("o.delivery_date", "<=", &f.delivery_date_to),
            ("o.shipment_date", ">=", &f.shipment_date_from),
            ("o.shipment_date", "<=", &f.shipment_date_to),
        ] {
            if let Some(d) = v {
                wh.push(&format!(" AND {column} {op} ")).bind(Arg::Text(d.clone()));
            }
        }
        crate::tasks::push_task_condition(wh, "order_id", "o.id", f.tasks.as_ref());
        push_range(
            wh,
            "(SELECT CAST(COALESCE(SUM(k.summ), 0) AS BIGINT) FROM costs k WHERE k.order_id = o.id)",
            f.cost,
        );
        self.push_delivery_states(wh, &f.delivery_states).await?;
        facets::order_dates(
            wh,
            "o.customer_id",
            (f.first_order_from, f.first_order_to),
            (f.last_order_from, f.last_order_to),
        );
        Ok(())
    }

    /// Orders in any of `states` (see [`DeliveryState`]): whether an integration carries the order's
    /// delivery type (the type's `integrationCode`, from the books) and the status the service reported
    /// (`delivery.data.status`, a facet).
    async fn push_delivery_states(&self, wh: &mut Sql, states: &[DeliveryState]) -> StoreResult<()> {
        if states.is_empty() {
            return Ok(());
        }
        let books = self.books().await?;
        let carried: Vec<Arg> = books
            .refs(ReferenceKind::DeliveryType)
            .iter()
            .filter(|e| e.attrs.get("integrationCode").and_then(Value::as_str).is_some_and(|c| !c.is_empty()))
            .map(|e| Arg::Text(e.code.clone()))
            .collect();
        let cancelled = Arg::Text(torg_domain::delivery::CANCELLED.into());
        let status = "o.id IN (SELECT order_id FROM order_facets WHERE name = 'delivery_status'";
        wh.push(" AND (1 = 0");
        for state in states {
            match state {
                DeliveryState::None if carried.is_empty() => {
                    wh.push(" OR 1 = 1");
                }
                DeliveryState::None => {
                    wh.push(" OR o.delivery_type IS NULL OR o.delivery_type NOT IN ")
                        .bind_list(carried.iter().cloned());
                }
                // No service is ever asked, so none refuses: nobody is in these states.
                DeliveryState::Error | DeliveryState::CancelForce => {}
                _ if carried.is_empty() => {}
                DeliveryState::Processing => {
                    wh.push(" OR (o.delivery_type IN ")
                        .bind_list(carried.iter().cloned())
                        .push(&format!(" AND NOT {status}))"));
                }
                DeliveryState::Cancel | DeliveryState::Success => {
                    let op = if *state == DeliveryState::Cancel { "=" } else { "<>" };
                    wh.push(" OR (o.delivery_type IN ")
                        .bind_list(carried.iter().cloned())
                        .push(&format!(" AND {status} AND value {op} "))
                        .bind(cancelled.clone())
                        .push("))");
                }
            }
        }
        wh.push(")");
        Ok(())
    }
}
