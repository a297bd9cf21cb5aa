//! The hosted payment page at an invoice's `paymentUrl`: the invoice in Russian, readable on a phone,
//! and in test mode a plain form button (no JavaScript) that pays it.

use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde_json::Value;
use torg_domain::history::Actor;
use torg_domain::invoice::{Invoice, InvoiceStatus, decimal_of};

/// One basket line as the page shows it.
struct Line {
    name: String,
    quantity: String,
    price: String,
    total: String,
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    merchant_order: String,
    description: String,
    status: &'static str,
    status_text: &'static str,
    lines: Vec<Line>,
    amount: String,
    vat: String,
    currency: String,
    payable: bool,
    open: bool,
    test_mode: bool,
    action: String,
    paid_at: String,
    expires: String,
    back_url: String,
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Счёт не найден</title><body><p>Счёт не найден.</p></body></html>".into(),
    )
}

fn server_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "payment page failed");
    html(StatusCode::INTERNAL_SERVER_ERROR, "<!doctype html><meta charset=\"utf-8\"><p>Ошибка сервера.</p>".into())
}

fn render(inv: &Invoice, test_mode: bool, zone: &torg_domain::time::Zone) -> Result<String, askama::Error> {
    let (status_text, open) = match inv.status {
        InvoiceStatus::Created => ("Ожидает оплаты", true),
        InvoiceStatus::Completed => ("Оплачен", false),
        InvoiceStatus::Canceled => ("Отменён", false),
        InvoiceStatus::Expired => ("Срок оплаты истёк", false),
        InvoiceStatus::Hold => ("Оплачен, сумма заблокирована до отгрузки", false),
    };
    let lines = inv
        .basket()
        .iter()
        .map(|l| {
            let num = |k: &str| l.get(k).and_then(decimal_of).unwrap_or_default();
            Line {
                name: l.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                quantity: num("quantity").normalize().to_string(),
                price: money(num("amount")),
                total: money(num("totalAmount")),
            }
        })
        .collect();
    let text = |k: &str| inv.doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let visible = text("merchantOrderIdVisible");
    let back = if inv.status == InvoiceStatus::Completed { text("successUrl") } else { text("returnUrl") };
    PayPage {
        merchant_order: if visible.is_empty() { inv.merchant_order_id.clone() } else { visible },
        description: inv.description.clone(),
        status: inv.status.as_str(),
        status_text,
        lines,
        amount: money(inv.amount),
        vat: if inv.vat_amount.is_zero() { String::new() } else { money(inv.vat_amount) },
        currency: inv.currency.clone(),
        payable: open && test_mode,
        open,
        test_mode,
        action: format!("/pay/{}", inv.container_id),
        paid_at: inv.paid_at.map(|t| zone.datetime(t)).unwrap_or_default(),
        expires: zone.datetime(inv.expires_at),
        back_url: back,
    }
    .render()
}

/// The invoice behind a payment page and whether its site is in test mode; the page to show otherwise.
async fn invoice(state: &AppState, container: &str) -> Result<(Invoice, bool), Response> {
    let inv = match state.store.get_invoice_by_container(container).await {
        Ok(Some(i)) => i,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(server_error(e)),
    };
    match state.store.billing_settings(&inv.site).await {
        Ok(s) => Ok((inv, s.is_some_and(|s| s.test_mode))),
        Err(e) => Err(server_error(e)),
    }
}

/// `GET /pay/{container}`.
pub async fn show(State(state): State<AppState>, Path(container): Path<String>) -> Response {
    let (inv, test_mode) = match invoice(&state, &container).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    match render(&inv, test_mode, &state.config.zone) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => server_error(e),
    }
}

/// `POST /pay/{container}`: pays a test-mode invoice, then shows the page again (303, so a reload does
/// not post twice). Paying twice is harmless: the second press finds the invoice paid. `mode=hold`
/// ("pay on shipment") holds the money instead, as a guarantee instrument would.
pub async fn pay(State(state): State<AppState>, Path(container): Path<String>, body: axum::body::Bytes) -> Response {
    let form = crate::params::pairs(&body);
    let hold = form.iter().any(|(k, v)| k == "mode" && v == "hold");
    let (inv, test_mode) = match invoice(&state, &container).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    if !test_mode {
        return html(
            StatusCode::FORBIDDEN,
            "<!doctype html><meta charset=\"utf-8\"><p>Оплата на этой странице доступна только в тестовом режиме.</p>"
                .into(),
        );
    }
    if inv.status == InvoiceStatus::Created {
        let paid = if hold {
            state.store.hold_invoice(&inv.id, None, Actor::Code, &state.config.zone).await
        } else {
            state
                .store
                .set_invoice_status(&inv.id, InvoiceStatus::Completed, false, Actor::Code, &state.config.zone)
                .await
        };
        match paid {
            Ok(_) | Err(torg_store::StoreError::Billing(_)) => {}
            Err(e) => return server_error(e),
        }
    }
    Redirect::to(&format!("/pay/{container}")).into_response()
}
