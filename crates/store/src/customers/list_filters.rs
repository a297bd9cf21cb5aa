//! The customer list's conditions beyond the first ones: the rest of the keys the official clients'
//! filters have, read from the customer's orders, notes, user groups and facets (values inside the
//! document, see [`crate::facets`]).

use super::CustomerFilter;
use crate::facets::{self, Owner, facet_eq, facet_flag, facet_in, facet_like};
use crate::sql::{Arg, Sql, contains_pattern};
use torg_domain::money::to_units;

/// Orders and their total, as the customer list counts them (test orders aside).
const COUNT: &str = "(SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0)";
const SUM: &str = "(SELECT CAST(COALESCE(SUM(o.total_summ), 0) AS BIGINT) FROM orders o WHERE o.customer_id = c.id AND o.is_test = 0)";
/// The costs of those orders (the customer's `costSumm`).
const COST: &str = "(SELECT CAST(COALESCE(SUM(k.summ), 0) AS BIGINT) FROM costs k JOIN orders o ON o.id = k.order_id
    WHERE o.customer_id = c.id AND o.is_test = 0)";

/// Appends every condition of `f` that [`crate::Store::list_customers`] does not write itself.
pub(super) fn push_more_conditions(wh: &mut Sql, f: &CustomerFilter) {
    if f.nothing {
        wh.push(" AND 1 = 0");
        return;
    }
    let c = Owner::Customer;
    if let Some(n) = &f.notes {
        wh.push(" AND c.id IN (SELECT customer_id FROM customer_notes WHERE text_lower LIKE ")
            .bind(Arg::Text(contains_pattern(&n.to_lowercase())))
            .push(" ESCAPE '\\')");
    }
    // The average compares as total against bound × count, so no engine rounds a division; a customer
    // without orders averages 0.
    for (op, bound) in [(">=", f.average_summ.0), ("<=", f.average_summ.1)] {
        if let Some(b) = bound {
            let units = to_units(b);
            wh.push(&format!(" AND (({COUNT} = 0 AND 0 {op} "))
                .bind(Arg::Int(units))
                .push(&format!(") OR ({COUNT} > 0 AND {SUM} {op} {COUNT} * "))
                .bind(Arg::Int(units))
                .push("))");
        }
    }
    for (op, bound) in [(">=", f.cost_summ.0), ("<=", f.cost_summ.1)] {
        if let Some(b) = bound {
            wh.push(&format!(" AND {COST} {op} ")).bind(Arg::Int(to_units(b)));
        }
    }
    crate::tasks::push_task_condition(wh, "customer_id", "c.id", f.tasks.as_ref());
    facet_in(wh, c, "c.id", "country", &f.countries);
    facet_flag(wh, c, "c.id", "email_unsubscribed", f.email_unsubscribed);
    facet_eq(wh, c, "c.id", "discount_card", f.discount_card.as_ref());
    facets::contragent(wh, c, "c.id", &f.contragent);
    facets::manager_groups(wh, "c.manager_id", &f.manager_groups);
    facets::order_dates(wh, "c.id", (f.first_order_from, f.first_order_to), (f.last_order_from, f.last_order_to));
    facet_eq(wh, c, "c.id", "browser_id", f.browser_id.as_ref());
    facet_like(wh, c, "c.id", "commentary", f.commentary.as_ref());
    facets::source(wh, c, "c.id", &f.source);
    facet_eq(wh, c, "c.id", "mg_customer_id", f.mg_customer_id.as_ref());
    facet_in(wh, c, "c.id", "tag", &f.tags);
    facets::subscriptions(wh, "c.id", &f.subscriptions);
}
