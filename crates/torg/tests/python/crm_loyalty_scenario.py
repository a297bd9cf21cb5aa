#!/usr/bin/env python3
"""Drives torg's CRM loyalty, segments and SMS verification with the official RetailCRM Python client
(`retailcrm==5.3.0`, unmodified).

Usage: python crm_loyalty_scenario.py BASE_URL API_KEY LOYALTY_ID CHECK_ID CODE

- API_KEY: a key with every scope on every site.
- LOYALTY_ID: a programme on `default` (defined outside the API, as RetailCRM does in its UI): bonuses
  live 30 days and pay up to half an order; level "Basic" credits 5 % from 0, "Silver" 10 % from 1000.
- A segment `vip` selects the customers with `vip` set.
- CHECK_ID, CODE: an SMS check sent to a phone and the code it carries (the client has no send method).

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, step, check_datetime  # noqa: F401


def main():
    base, key, loyalty, check_id, code = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    c = retailcrm.v5(base, key)

    step("loyalty_loyalties / loyalty_loyalty")
    body = expect(c.loyalty_loyalties({"active": 1}), 200, "loyalty_loyalties")
    equal([x["id"] for x in body["loyalties"]], [loyalty], "the programmes listed")
    equal(body["pagination"]["totalCount"], 1, "loyalties totalCount")
    body = expect(c.loyalty_loyalty(loyalty), 200, "loyalty_loyalty")
    levels = body["loyalty"]["levels"]
    equal([(x["name"], x["sum"], x["privilegeSize"]) for x in levels], [("Basic", 0, 5), ("Silver", 1000, 10)],
          "levels")
    expect_error(c.loyalty_loyalty(999999), 404, "Not found", "an unknown programme")

    step("customers (two VIPs) and segments")
    for ext, vip in (("py-l1", True), ("py-l2", True), ("py-l3", False)):
        expect(c.customer_create({"externalId": ext, "firstName": "Lena", "vip": vip}, "default"), 201,
               "customer_create")
    body = expect(c.segments({"name": "VIP"}), 200, "segments")
    equal([(s["code"], s["customersCount"], s["isDynamic"]) for s in body["segments"]], [("vip", 2, True)],
          "the vip segment")
    body = expect(c.segments({"minCustomersCount": 3}), 200, "segments (minCustomersCount)")
    equal(body["segments"], [], "no segment of 3 customers")
    body = expect(c.customers({"segment": "vip"}), 200, "customers in the segment")
    equal(sorted(x["externalId"] for x in body["customers"]), ["py-l1", "py-l2"], "the segment's customers")

    step("loyalty_account_create / loyalty_account_activate / loyalty_account")
    r = c.loyalty_account_create("default", {"customer": {"externalId": "py-l1"}, "phoneNumber": "+79001112233",
                                             "cardNumber": "CARD-1"})
    body = expect(r, 201, "loyalty_account_create")
    account = body["loyaltyAccount"]["id"]
    equal((body["loyaltyAccount"]["active"], body["loyaltyAccount"]["status"]), (False, "not_confirmed"),
          "a new account waits")
    r = c.loyalty_account_create("default", {"customer": {"externalId": "py-l1"}})
    body = expect_error(r, 400, "Errors in the entity format", "a second account")
    check("loyaltyAccount.customer" in body.get("errors", {}), "the error names loyaltyAccount.customer", r)
    expect_error(c.loyalty_account_create("default", {"customer": {"externalId": "nobody"}}), 400,
                 "Errors in the entity format", "an unknown customer")
    body = expect(c.loyalty_account_activate(account), 200, "loyalty_account_activate")
    equal(body["loyaltyAccount"]["status"], "activated", "activated")
    body = expect(c.loyalty_account(account), 200, "loyalty_account")
    a = body["loyaltyAccount"]
    equal((a["customer"]["externalId"], a["cardNumber"], a["amount"], a["level"]["name"]),
          ("py-l1", "CARD-1", 0, "Basic"), "the account")
    check_datetime(a["createdAt"], "loyaltyAccount.createdAt")
    expect_error(c.loyalty_account(999999), 404, "Not found", "an unknown account")

    step("loyalty_account_edit")
    body = expect(c.loyalty_account_edit(account, {"phoneNumber": "+79005556677"}), 200, "loyalty_account_edit")
    equal(body["loyaltyAccount"]["phoneNumber"], "+79005556677", "the new phone")
    expect_error(c.loyalty_account_edit(account, {"phoneNumber": "1"}), 400, "Errors in the entity format",
                 "a phone too short")

    step("loyalty_account_bonus_credit / loyalty_account_bonus_charge")
    body = expect(c.loyalty_account_bonus_credit(account, 300, None, None, "welcome"), 200, "bonus credit")
    equal(body["loyaltyBonus"]["amount"], 300, "credited")
    expect(c.loyalty_account_bonus_credit(account, 50, "2099-01-01", None, "later"), 200, "a later credit")
    r = c.loyalty_account_bonus_credit(account, 10, "2030-01-02", "2030-01-01", "backwards")
    expect_error(r, 400, "Errors in the entity format", "expiry before activation")
    expect(c.loyalty_account_bonus_charge(account, 20, "a gift"), 200, "bonus charge")
    expect_error(c.loyalty_account_bonus_charge(account, 10000, "too much"), 400, "Errors in the entity format",
                 "a charge above the balance")
    equal(expect(c.loyalty_account(account), 200, "loyalty_account")["loyaltyAccount"]["amount"], 280, "balance")

    step("loyalty_account_bonus_operations / loyalty_account_bonus_details / loyalty_bonus_operations")
    body = expect(c.loyalty_account_bonus_operations(account), 200, "account bonus operations")
    equal([o["type"] for o in body["bonusOperations"]], ["credit_manual", "credit_manual", "charge_manual"],
          "operations")
    equal(body["pagination"]["totalCount"], 3, "operations totalCount")
    body = expect(c.loyalty_account_bonus_details(account, "waiting_activation"), 200, "waiting_activation")
    equal((body["statistic"]["totalAmount"], body["bonuses"]), (50, [{"date": "2099-01-01", "amount": 50}]),
          "bonuses waiting")
    body = expect(c.loyalty_account_bonus_details(account, "burn_soon"), 200, "burn_soon")
    equal(body["statistic"]["totalAmount"], 280, "bonuses that will expire")
    expect_error(c.loyalty_account_bonus_details(account, "nonsense"), 400, "Errors in the input parameters",
                 "an unknown status")
    body = expect(c.loyalty_bonus_operations({"loyalties": [loyalty]}), 200, "loyalty_bonus_operations")
    equal(len(body["bonusOperations"]), 3, "every operation")
    equal(body["bonusOperations"][0]["loyaltyAccount"]["id"], account, "the operation's account")

    step("loyalty_accounts")
    body = expect(c.loyalty_accounts({"status": "activated", "customerExternalId": "py-l1"}), 200,
                  "loyalty_accounts")
    equal([x["id"] for x in body["loyaltyAccounts"]], [account], "accounts listed")
    body = expect(c.loyalty_accounts({"minAmount": 1000}), 200, "loyalty_accounts (minAmount)")
    equal(body["loyaltyAccounts"], [], "nobody holds 1000")
    body = expect(c.loyalty_accounts({"burnDateFrom": "2099-01-01"}), 200, "loyalty_accounts (burnDateFrom)")
    equal([x["id"] for x in body["loyaltyAccounts"]], [account], "the 50 waiting for 2099 burn after it")
    body = expect(c.loyalty_accounts({"burnDateTo": "2000-01-01"}), 200, "loyalty_accounts (burnDateTo)")
    equal(body["loyaltyAccounts"], [], "nothing burned before 2000")
    body = expect(c.loyalty_accounts({"customFields": ["tier"]}), 200, "loyalty_accounts (customFields)")
    equal(body["loyaltyAccounts"], [], "no account has a tier")

    step("loyalty_calculate")
    order = {"customer": {"externalId": "py-l1"}, "items": [{"initialPrice": 200, "quantity": 2}]}
    body = expect(c.loyalty_calculate(order, "default", 100), 200, "loyalty_calculate")
    equal((body["calculations"][0]["maxChargeBonuses"], body["calculations"][0]["creditBonuses"]), (200, 20),
          "the calculation")
    equal((body["order"]["bonusesChargeTotal"], body["order"]["totalSumm"]), (100, 300), "the calculated order")
    expect_error(c.loyalty_calculate(order, "default", 250), 400, "Errors in the entity format",
                 "more than half the order")

    step("orders_loyalty_apply / orders_loyalty_cancel_bonus_operations")
    r = c.order_create({"externalId": "py-lo1", "customer": {"externalId": "py-l1"},
                        "items": [{"productName": "Lamp", "initialPrice": 400, "quantity": 1}]}, "default")
    expect(r, 201, "order_create")
    body = expect(c.orders_loyalty_apply({"externalId": "py-lo1"}, "default", 150), 200, "orders_loyalty_apply")
    equal((body["order"]["bonusesChargeTotal"], body["order"]["totalSumm"]), (150, 250), "the order spends 150")
    o = expect(c.order("py-lo1"), 200, "order")["order"]
    equal((o["bonusesChargeTotal"], o["totalSumm"], o["loyaltyAccount"]["id"]), (150, 250, account),
          "the order as stored")
    equal(expect(c.loyalty_account(account), 200, "loyalty_account")["loyaltyAccount"]["amount"], 130,
          "balance after spending")
    expect(c.orders_loyalty_cancel_bonus_operations({"externalId": "py-lo1"}, "default"), 200,
           "orders_loyalty_cancel_bonus_operations")
    equal(expect(c.loyalty_account(account), 200, "loyalty_account")["loyaltyAccount"]["amount"], 280,
          "balance given back")
    o = expect(c.order("py-lo1"), 200, "order")["order"]
    equal((o.get("bonusesChargeTotal"), o["totalSumm"]), (None, 400), "the order no longer spends bonuses")

    step("paid in full, the order earns bonuses")
    expect(c.orders_loyalty_apply({"externalId": "py-lo1"}, "default", 100), 200, "orders_loyalty_apply")
    r = c.order_payment_create({"order": {"externalId": "py-lo1"}, "type": "cash", "status": "paid",
                                "amount": 300}, "default")
    expect(r, 201, "order_payment_create")
    a = expect(c.loyalty_account(account), 200, "loyalty_account")["loyaltyAccount"]
    equal((a["amount"], a["ordersSum"]), (195, 300), "180 left plus 5 % of 300 earned")
    o = expect(c.order("py-lo1"), 200, "order")["order"]
    equal(o["bonusesCreditTotal"], 15, "the order shows what it earned")
    expect_error(c.orders_loyalty_apply({"externalId": "nope"}, "default", 10), 400, "Errors in the entity format",
                 "an unknown order")

    step("verification_sms_status / verification_sms_confirm")
    body = expect(c.verification_sms_status(check_id), 200, "verification_sms_status")
    equal(body["verification"]["checkId"], check_id, "the check")
    check("verifiedAt" not in body["verification"], "not yet verified", None)
    expect_error(c.verification_sms_status("unknown"), 404, "Not found", "an unknown check")
    wrong = "000000" if code != "000000" else "111111"
    expect_error(c.verification_sms_confirm({"checkId": check_id, "code": wrong}), 400, "Wrong verification code.",
                 "a wrong code")
    body = expect(c.verification_sms_confirm({"checkId": check_id, "code": code}), 200, "verification_sms_confirm")
    check_datetime(body["verification"]["verifiedAt"], "verification.verifiedAt")
    body = expect(c.verification_sms_status(check_id), 200, "verification_sms_status")
    check_datetime(body["verification"]["verifiedAt"], "verifiedAt once confirmed")

    print("scenario ok", flush=True)


if __name__ == "__main__":
    main()
