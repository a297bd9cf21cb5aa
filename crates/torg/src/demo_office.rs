//! The demo's distributor: it owns two of the three demo warehouses (with contacts and addresses),
//! and one parts order shipped from them carries tracking numbers, so the office face and the
//! `/track` page have something to show.

use crate::demo::DEMO_DISTRIBUTOR;
use torg_domain::history::Actor;
use torg_domain::key::SiteAccess;
use torg_domain::time::Zone;
use torg_store::{CustomerLookup, OrderLookup, PartsOrder, Store, WarehouseInput};

/// Hands the warehouses over and places the tracked order; returns its number.
pub async fn load(store: &Store, zone: &Zone) -> anyhow::Result<Option<String>> {
    let owned = [
        ("msk", "Склад Москва", "+7 800 777-9462, msk@torg.example", "Москва, ул. Складская, 1"),
        ("ekb", "Склад Екатеринбург", "+7 343 000-00-00, ekb@torg.example", "Екатеринбург, ул. Монтажников, 4"),
    ];
    for (code, ..) in owned {
        store.set_warehouse_distributor(code, Some(DEMO_DISTRIBUTOR)).await?;
    }
    let rows: Vec<WarehouseInput> = owned
        .iter()
        .map(|(code, name, contacts, address)| WarehouseInput {
            code: (*code).into(),
            name: Some((*name).into()),
            contacts: Some((*contacts).into()),
            address: Some((*address).into()),
            ..WarehouseInput::default()
        })
        .collect();
    store.update_office_warehouses(DEMO_DISTRIBUTOR, &rows).await?;
    let lookup = CustomerLookup::ExternalId { site: "simple-site".into(), external_id: "demo-c1".into() };
    let Some((buyer, _)) = store.get_customer(&lookup).await? else { return Ok(None) };
    let offers = store.search_parts("OC47").await?;
    let Some(row) = offers.iter().find(|r| !r.is_cross && owned.iter().any(|(c, ..)| *c == r.warehouse)) else {
        return Ok(None);
    };
    let order = store
        .place_parts_order(
            &PartsOrder {
                corporate_id: None,
                sites: SiteAccess::Full,
                customer_id: buyer.id,
                offer_id: row.offer_id,
                warehouse_id: row.warehouse_id,
                price: row.price,
                period_min: row.period_min,
                period_max: row.period_max,
                quantity: row.min_qty,
                comment: None,
                test: false,
            },
            Actor::User(None),
            zone,
        )
        .await?;
    let Some(order) = order else { return Ok(None) };
    let tracks = ["RA123456785RU".to_string(), "CDEK-10424242".to_string()];
    store
        .update_distributor_order(
            DEMO_DISTRIBUTOR,
            &OrderLookup::Id(order.id),
            Some("send-to-delivery"),
            Some(&tracks),
            Actor::User(None),
            zone,
        )
        .await?;
    Ok(Some(order.number))
}
