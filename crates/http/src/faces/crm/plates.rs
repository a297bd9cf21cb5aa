//! `orders/{externalId}/plates/{plateId}/print`: an order's print forms. torg has two built in (no
//! client method manages plates, so they cannot be configured through the API): 1, an invoice for
//! payment (Счёт на оплату); 2, a packing list without prices (Упаковочный лист). The form is an
//! HTML document, a file to save or print (`Content-Disposition: attachment`), rendered with askama.

use super::scope::ORDER_READ;
use super::{Crm, CrmError};
use crate::AppState;
use crate::kit::{BY, Route, SITE};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use torg_domain::reference::ReferenceKind;
use torg_store::OrderLookup;

/// The group's routes.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v5/orders/{externalId}/plates/{plateId}/print", ORDER_READ, print)
            .doc("orders", "print_order_plate", "An order's print form (1: invoice, 2: packing list), as an HTML file")
            .fields(&[SITE, BY]),
    ]
}

/// One line as the form prints it.
struct Line {
    n: usize,
    name: String,
    article: String,
    quantity: String,
    price: String,
    total: String,
}

#[derive(Template)]
#[template(path = "plate.html")]
struct Plate {
    title: &'static str,
    number: String,
    date: String,
    seller: String,
    buyer: String,
    address: String,
    lines: Vec<Line>,
    with_money: bool,
    summ: String,
    delivery: String,
    total: String,
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// `GET /api/v5/orders/{externalId}/plates/{plateId}/print` (`by`, `site` as for an order).
async fn print(
    State(state): State<AppState>,
    Path((uid, plate)): Path<(String, String)>,
    crm: Crm,
) -> Result<Response, CrmError> {
    let lookup = if crm.by_id()? {
        OrderLookup::Id(uid.parse().map_err(|_| CrmError::not_found())?)
    } else {
        OrderLookup::ExternalId { site: crm.site()?, external_id: uid }
    };
    let Some(o) = state.store.get_order(&lookup).await?.filter(|o| crm.sites.contains(&o.site)) else {
        return Err(CrmError::not_found());
    };
    let (title, with_money, file) = match plate.as_str() {
        "1" => ("Счёт на оплату", true, "invoice"),
        "2" => ("Упаковочный лист", false, "packing-list"),
        _ => return Err(CrmError::new(StatusCode::NOT_FOUND, "Plate not found")),
    };
    let seller = crm
        .books
        .refs(ReferenceKind::LegalEntity)
        .first()
        .map(|e| {
            let inn = e.attr_str("INN").map(|i| format!(", ИНН {i}")).unwrap_or_default();
            format!("{}{inn}", e.attr_str("legalName").unwrap_or(&e.name))
        })
        .or_else(|| crm.books.sites().iter().find(|s| s.code == o.site).map(|s| s.name.clone()))
        .unwrap_or_default();
    let buyer =
        [&o.last_name, &o.first_name, &o.patronymic].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ");
    let address = o.delivery.address.get("text").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let lines = o
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let offer = item.offer.as_ref();
            Line {
                n: i + 1,
                name: item.product_name.clone().or_else(|| offer.and_then(|f| f.name.clone())).unwrap_or_default(),
                article: offer.and_then(|f| f.article.clone()).unwrap_or_default(),
                quantity: item.quantity.normalize().to_string(),
                price: money(item.unit_price()),
                total: money(item.total()),
            }
        })
        .collect();
    let page = Plate {
        title,
        number: o.number.clone(),
        date: state.config.zone.date(o.created_at),
        seller,
        buyer: if buyer.is_empty() { o.email.clone().unwrap_or_default() } else { buyer },
        address,
        lines,
        with_money,
        summ: money(o.summ()),
        delivery: o.delivery.cost.filter(|c| !c.is_zero()).map(money).unwrap_or_default(),
        total: money(o.total_summ()),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "rendering a plate failed");
        CrmError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    })?;
    let mut resp = (StatusCode::OK, html).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    let disposition = format!("attachment; filename=\"order-{}-{file}.html\"", o.id);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
