#!/usr/bin/env python3
"""Drives torg's CRM payment integration (`payment/*`) with the official RetailCRM Python client
(`retailcrm==5.3.0`, unmodified).

Usage: python crm_payment_scenario.py BASE_URL API_KEY

- API_KEY: a key with every scope on every site; the `default` site has a billing merchant.

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, step, check_datetime


def payments_of(c, external_id):
    order = expect(c.order(external_id, site="default"), 200, "order")["order"]
    return list(order["payments"].values()), order["prepaySum"]


def main():
    base, key = sys.argv[1], sys.argv[2]
    c = retailcrm.v5(base, key)

    step("an order with an unpaid payment")
    order = {"externalId": "py-pay-1", "firstName": "Ann", "email": "ann@example.ru",
             "items": [{"productName": "Filter", "initialPrice": 700, "quantity": 1}]}
    expect(c.order_create(order, "default"), 201, "order_create")
    r = c.order_payment_create({"order": {"externalId": "py-pay-1"}, "type": "bank-card", "amount": 700}, "default")
    payment = expect(r, 201, "order_payment_create")["id"]

    step("payment_create_invoice")
    body = expect(c.payment_create_invoice({"paymentId": payment, "returnUrl": "https://shop.example/back"}), 200,
                  "payment_create_invoice")
    link, uuid = body["result"]["link"], body["result"]["invoiceUuid"]
    check("/pay/" in link, "the link is the payment page")
    again = expect(c.payment_create_invoice({"paymentId": payment}), 200, "payment_create_invoice again")
    equal(again["result"]["invoiceUuid"], uuid, "a payable invoice is answered again")
    body = expect_error(c.payment_create_invoice({"paymentId": "x"}), 400, "Errors in the entity format",
                        "a wrong paymentId")
    check("createInvoice.paymentId" in body["errors"], "the error names paymentId")
    expect_error(c.payment_create_invoice({"paymentId": 999999}), 404, "Payment not found", "an unknown payment")

    step("payment_invoice")
    inv = expect(c.payment_invoice(uuid), 200, "payment_invoice")["invoice"]
    equal((inv["status"], inv["amount"], inv["paymentId"], inv["link"]), ("pending", "700", str(payment), link),
          "the invoice read back")
    equal(inv["email"], "ann@example.ru", "the buyer's email")
    check_datetime(inv["createdAt"], "createdAt")
    check_datetime(inv["expiredAt"], "expiredAt")
    expect_error(c.payment_invoice("00000000-0000-0000-0000-000000000000"), 404, "Invoice not found",
                 "an unknown invoice")

    step("payment_check")
    body = expect(c.payment_check({"invoiceUuid": uuid, "amount": 700, "currency": "RUB"}), 200, "payment_check")
    equal(body["result"], {"success": True}, "the right sum")
    body = expect(c.payment_check({"invoiceUuid": uuid, "amount": 7}), 200, "payment_check (wrong sum)")
    equal(body["result"]["success"], False, "a wrong sum is refused")
    check("700" in body["result"]["errorMsg"], "the refusal names the invoice's sum")

    step("payment_update_invoice")
    expect(c.payment_update_invoice({"invoiceUuid": uuid, "amount": 650, "expiredAt": "2099-01-01 00:00:00"}), 200,
           "payment_update_invoice (terms)")
    inv = expect(c.payment_invoice(uuid), 200, "payment_invoice")["invoice"]
    equal((inv["amount"], inv["expiredAt"]), ("650", "2099-01-01 00:00:00"), "the new terms")
    body = expect_error(c.payment_update_invoice({"invoiceUuid": uuid, "status": "lost"}), 400,
                        "Errors in the entity format", "an unknown status")
    check("updateInvoice.status" in body["errors"], "the error names the status")
    expect(c.payment_update_invoice({"invoiceUuid": uuid, "status": "succeeded"}), 200, "payment_update_invoice (paid)")
    inv = expect(c.payment_invoice(uuid), 200, "payment_invoice")["invoice"]
    equal(inv["status"], "succeeded", "the invoice is paid")
    check_datetime(inv["paidAt"], "paidAt")
    payments, prepay = payments_of(c, "py-pay-1")
    equal([(p["id"], p["status"], p["amount"]) for p in payments], [(payment, "paid", 650)], "the payment is paid")
    equal(prepay, 650, "the order's prepaid sum")
    r = c.payment_update_invoice({"invoiceUuid": uuid, "amount": 1})
    check(r.get_status_code() == 400 and "only a created invoice" in r.get_error_msg(), "a paid invoice keeps its sum", r)
    body = expect(c.payment_check({"invoiceUuid": uuid, "amount": 650}), 200, "payment_check (paid)")
    equal(body["result"]["success"], False, "a paid invoice cannot be paid again")

    step("payment_invoice_import")
    r = c.order_payment_create({"order": {"externalId": "py-pay-1"}, "type": "cash", "amount": 50}, "default")
    second = expect(r, 201, "order_payment_create (second)")["id"]
    body = expect_error(c.payment_invoice_import({"paymentId": second, "status": "done"}), 400,
                        "Errors in the entity format", "an import with an unknown status")
    check("invoice.status" in body["errors"], "the error names the status")
    imported = {"paymentId": second, "externalId": "psp-1", "status": "succeeded", "amount": 50, "currency": "RUB",
                "createdAt": "2026-07-08 00:00:00", "paidAt": "2026-07-08 00:10:00", "refundable": True}
    body = expect(c.payment_invoice_import(imported), 200, "payment_invoice_import")
    inv = expect(c.payment_invoice(body["invoice"]["invoiceUuid"]), 200, "payment_invoice (imported)")["invoice"]
    equal((inv["status"], inv["externalId"], inv["paidAt"]), ("succeeded", "psp-1", "2026-07-08 00:10:00"),
          "the imported invoice")
    payments, prepay = payments_of(c, "py-pay-1")
    equal(sorted(p["status"] for p in payments), ["paid", "paid"], "both payments paid")
    equal(prepay, 700, "the order's prepaid sum")
    r = c.payment_invoice_import(imported)
    check(r.get_status_code() == 400 and "already paid" in r.get_error_msg(), "a paid payment takes no import", r)

    print("scenario ok")


if __name__ == "__main__":
    main()
