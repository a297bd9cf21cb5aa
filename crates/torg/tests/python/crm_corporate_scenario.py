#!/usr/bin/env python3
"""Drives torg's corporate customers (`customers-corporate`) with the official RetailCRM Python client
(`retailcrm==5.3.0`, unmodified): every one of its 20 corporate methods.

Usage: python crm_corporate_scenario.py BASE_URL API_KEY MANAGER_ID

- API_KEY: a key with every scope on every site (the database has one site, `default`).
- MANAGER_ID: an existing user.

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, step, check_datetime


def ids_of(body, key):
    return [x["id"] for x in body[key]]


def main():
    base, key, manager = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = retailcrm.v5(base, key)

    step("contact persons to be")
    anna = expect(c.customer_create({"externalId": "cp-anna", "firstName": "Анна", "email": "anna@acme.example"},
                                    "default"), 201, "customer_create")["id"]
    boris = expect(c.customer_create({"externalId": "cp-boris", "firstName": "Борис"}), 201, "customer_create")["id"]

    step("customer_corporate_create / customer_corporate")
    r = c.customer_corporate_create({
        "externalId": "acme", "nickName": "Акме", "managerId": manager, "vip": True,
        "addresses": [{"externalId": "hq", "name": "Офис", "city": "Тверь", "countryIso": "RU"}],
        "companies": [{"externalId": "acme-llc", "name": "ООО Акме", "address": {"externalId": "hq"},
                       "contragent": {"contragentType": "legal-entity", "INN": "7707083893", "KPP": "773601001"}}],
        "customerContacts": [{"customer": {"id": anna}, "isMain": True,
                              "companies": [{"company": {"externalId": "acme-llc"}}]}],
    }, "default")
    acme = expect(r, 201, "customer_corporate_create")["id"]
    r = c.customer_corporate_create({"externalId": "globex", "nickName": "Globex"})
    globex = expect(r, 201, "customer_corporate_create (no site)")["id"]
    body = expect(c.customer_corporate("acme"), 200, "customer_corporate")
    cc = body["customerCorporate"]
    equal((cc["id"], cc["type"], cc["nickName"], cc["vip"]), (acme, "customer_corporate", "Акме", True), "corporate")
    equal(cc["managerId"], manager, "managerId")
    check_datetime(cc["createdAt"], "customerCorporate.createdAt")
    equal(cc["companies"][0]["contragent"]["INN"], "7707083893", "company INN")
    equal(cc["customerContacts"][0]["customer"]["id"], anna, "main contact")
    equal(cc["mainCompany"]["name"], "ООО Акме", "mainCompany")
    body = expect(c.customer_corporate(globex, "id"), 200, "customer_corporate by id")
    equal(body["customerCorporate"]["externalId"], "globex", "by id")
    expect_error(c.customer_corporate("nobody"), 404, "Not found", "an unknown corporate customer")
    r = c.customer_corporate_create({"externalId": "nameless"})
    body = expect_error(r, 400, "Errors in the entity format", "a corporate customer without a name")
    check("nickName" in body.get("errors", {}), "the error names nickName", r)

    step("customer_corporate_edit")
    # The client sends the document as `customersCorporate` and builds the path from its externalId.
    r = c.customer_corporate_edit({"externalId": "acme", "nickName": "Акме Групп", "vip": False})
    equal(expect(r, 200, "customer_corporate_edit")["id"], acme, "edited id")
    r = c.customer_corporate_edit({"id": globex, "bad": True}, "id")
    expect(r, 200, "customer_corporate_edit by id")
    cc = expect(c.customer_corporate("acme"), 200, "read back")["customerCorporate"]
    equal((cc["nickName"], cc["vip"]), ("Акме Групп", False), "edited fields")
    expect_error(c.customer_corporate_edit({"externalId": "nobody", "vip": True}), 404, "Not found", "edit unknown")

    step("customers_corporate (list and filters)")
    body = expect(c.customers_corporate(), 200, "customers_corporate")
    equal(ids_of(body, "customersCorporate"), [acme, globex], "all")
    equal(body["pagination"]["totalCount"], 2, "totalCount")
    body = expect(c.customers_corporate({"contragentInn": "7707083893"}), 200, "filter contragentInn")
    equal(ids_of(body, "customersCorporate"), [acme], "by INN")
    body = expect(c.customers_corporate({"bad": 1}), 200, "filter bad")
    equal(ids_of(body, "customersCorporate"), [globex], "by bad")
    body = expect(c.customers_corporate({"name": "групп", "contactIds": [anna]}), 200, "filter name+contactIds")
    equal(ids_of(body, "customersCorporate"), [acme], "by name and contact")
    body = expect(c.customers_corporate({"city": "тверь", "managers": [manager]}), 200, "filter city+managers")
    equal(ids_of(body, "customersCorporate"), [acme], "by city and manager")
    body = expect(c.customers_corporate(limit=20, page=2), 200, "page 2")
    equal(body["customersCorporate"], [], "page 2 is empty")
    expect_error(c.customers_corporate({"wrong": 1}), 400, "Errors in the input parameters", "an unknown filter")
    expect_error(c.customers_corporate(limit=7), 400, "Errors in the input parameters", "a wrong limit")

    step("customer_corporate_addresses*")
    # The client names the corporate customer by the document's own externalId (or id with uid_type).
    r = c.customer_corporate_addresses_create({"externalId": "acme", "name": "Склад", "city": "Клин"})
    wh = expect(r, 201, "customer_corporate_addresses_create")["id"]
    r = c.customer_corporate_addresses_create({"id": globex, "name": "Globex HQ", "city": "Springfield"}, "id")
    expect(r, 201, "customer_corporate_addresses_create by id")
    body = expect(c.customer_corporate_addresses("acme"), 200, "customer_corporate_addresses")
    equal(len(body["addresses"]), 2, "two addresses")
    equal([a["isMain"] for a in body["addresses"]], [True, False], "the first stays main")
    hq = body["addresses"][0]["id"]
    body = expect(c.customer_corporate_addresses("acme", filters={"city": "клин"}), 200, "addresses filter")
    equal(ids_of(body, "addresses"), [wh], "by city")
    r = c.customer_corporate_addresses_edit("acme", {"id": wh, "isMain": True, "text": "Клин, Заводская 3"},
                                            entity_by="id")
    equal(expect(r, 200, "customer_corporate_addresses_edit")["id"], wh, "edited address")
    r = c.customer_corporate_addresses_edit("acme", {"externalId": "hq", "name": "Головной офис"})
    expect(r, 200, "customer_corporate_addresses_edit by externalId")
    body = expect(c.customer_corporate_addresses(acme, "id"), 200, "addresses by id")
    equal([(a["id"], a["isMain"]) for a in body["addresses"]], [(wh, True), (hq, False)], "main moved")
    equal(body["addresses"][1]["name"], "Головной офис", "renamed")
    r = c.customer_corporate_addresses_edit("acme", {"externalId": "nope", "name": "x"})
    expect_error(r, 404, "Not found", "an unknown address")

    step("customer_corporate_companies*")
    r = c.customer_corporate_companies_create({"externalId": "acme", "name": "ИП Петров",
                                               "contragent": {"contragentType": "enterpreneur",
                                                              "INN": "500100732259"}})
    petrov = expect(r, 201, "customer_corporate_companies_create")["id"]
    r = c.customer_corporate_companies_create({"externalId": "acme", "name": "Bad",
                                               "contragent": {"INN": "123"}})
    body = expect_error(r, 400, "Errors in the entity format", "a wrong INN")
    check("contragent.INN" in body.get("errors", {}), "the error names contragent.INN", r)
    body = expect(c.customer_corporate_companies("acme"), 200, "customer_corporate_companies")
    equal([x["name"] for x in body["companies"]], ["ООО Акме", "ИП Петров"], "companies")
    r = c.customer_corporate_companies_edit("acme", {"id": petrov, "active": False, "brand": "Петров"},
                                            entity_by="id")
    expect(r, 200, "customer_corporate_companies_edit")
    r = c.customer_corporate_companies_edit("acme", {"externalId": "acme-llc", "isMain": True})
    expect(r, 200, "customer_corporate_companies_edit by externalId")
    body = expect(c.customer_corporate_companies("acme", filters={"ids": [petrov]}), 200, "companies filter")
    equal((body["companies"][0]["active"], body["companies"][0]["brand"]), (False, "Петров"), "edited company")

    step("customer_corporate_contacts*")
    r = c.customer_corporate_contacts_create({"externalId": "acme", "customer": {"externalId": "cp-boris"},
                                              "companies": [{"id": petrov}]})
    equal(expect(r, 201, "customer_corporate_contacts_create")["id"], boris, "contact id")
    r = c.customer_corporate_contacts_create({"externalId": "acme", "customer": {"id": 999999}})
    body = expect_error(r, 400, "Errors in the entity format", "an unknown contact")
    check("customer" in body.get("errors", {}), "the error names customer", r)
    body = expect(c.customer_corporate_contacts("acme"), 200, "customer_corporate_contacts")
    equal([(x["customer"]["id"], x["isMain"]) for x in body["contacts"]], [(anna, True), (boris, False)], "contacts")
    equal(body["contacts"][1]["companies"][0]["company"]["id"], petrov, "contact's company")
    r = c.customer_corporate_contacts_edit("acme", {"externalId": "cp-boris", "isMain": True})
    expect(r, 200, "customer_corporate_contacts_edit")
    r = c.customer_corporate_contacts_edit("acme", {"id": anna, "companies": []}, entity_by="id")
    expect(r, 200, "customer_corporate_contacts_edit by id")
    body = expect(c.customer_corporate_contacts("acme", filters={"ids": [boris]}), 200, "contacts filter")
    equal([(x["customer"]["id"], x["isMain"]) for x in body["contacts"]], [(boris, True)], "main contact moved")

    step("an order for the corporate customer")
    r = c.order_create({"externalId": "acme-o1", "customer": {"type": "customer_corporate", "externalId": "acme"},
                        "company": {"externalId": "acme-llc"}, "contact": {"externalId": "cp-anna"}}, "default")
    expect(r, 201, "order_create (corporate)")
    o = expect(c.order("acme-o1"), 200, "order")["order"]
    equal((o["customer"]["type"], o["customer"]["id"]), ("customer_corporate", acme), "order.customer")
    equal((o["contact"]["id"], o["company"]["name"]), (anna, "ООО Акме"), "order contact and company")
    body = expect(c.orders({"customerType": "customer_corporate"}), 200, "orders by customerType")
    equal([x["externalId"] for x in body["orders"]], ["acme-o1"], "corporate orders")
    cc = expect(c.customer_corporate("acme"), 200, "figures")["customerCorporate"]
    equal(cc["ordersCount"], 1, "ordersCount")

    step("customer_corporate_note_create / customer_corporate_notes / customer_corporate_note_delete")
    r = c.customer_corporate_note_create({"customer": {"externalId": "acme"}, "text": "Платят в срок",
                                          "managerId": manager}, "default")
    note = expect(r, 201, "customer_corporate_note_create")["id"]
    r = c.customer_corporate_note_create({"customer": {"id": globex}, "text": "Second"})
    expect(r, 201, "customer_corporate_note_create by id")
    body = expect(c.customer_corporate_notes({"customerExternalIds": ["acme"]}), 200, "customer_corporate_notes")
    equal(ids_of(body, "notes"), [note], "notes of acme")
    equal(body["notes"][0]["customer"]["type"], "customer_corporate", "note's customer type")
    expect(c.customer_corporate_note_delete(note), 200, "customer_corporate_note_delete")
    expect_error(c.customer_corporate_note_delete(note), 404, "Note not found map", "a deleted note")
    body = expect(c.customer_corporate_notes(), 200, "notes after delete")
    equal(body["pagination"]["totalCount"], 1, "one note left")

    step("customers_corporate_history")
    body = expect(c.customers_corporate_history({"customerExternalId": "acme"}, limit=100), 200, "history")
    h = body["history"]
    check(h[0].get("created") is True, "the first record is the creation", None)
    equal(h[0]["corporateCustomer"]["nickName"], "Акме", "created record's customer")
    fields = [x.get("field") for x in h]
    for f in ("nick_name", "vip", "address", "address.is_main", "company", "company.active", "customer_contact",
              "customer_contact.is_main"):
        check(f in fields, "history has a %s record (%r)" % (f, fields))
    since = h[-1]["id"]
    body = expect(c.customers_corporate_history({"sinceId": since}), 200, "history since")
    check(all(x["id"] > since for x in body["history"]), "sinceId holds")
    body = expect(c.customers_corporate_history({"startDate": "2000-01-01 00:00:00"}, limit=20, page=1), 200,
                  "history by date")
    check(body["pagination"]["totalCount"] >= len(h), "every record is after 2000")

    step("customers_corporate_upload / customers_corporate_fix_external_ids")
    r = c.customers_corporate_upload([{"externalId": "u1", "nickName": "U1"}, {"nickName": "U2"}], "default")
    body = expect(r, 200, "customers_corporate_upload")
    equal(len(body["uploadedCustomers"]), 2, "uploaded")
    u2 = body["uploadedCustomers"][1]["id"]
    r = c.customers_corporate_upload([{"externalId": "u3", "nickName": "U3"}, {"externalId": "u4"}])
    body = expect_error(r, 460, "Customers are loaded with errors", "an upload with a failure")
    equal(body["failedCustomers"], [{"externalId": "u4"}], "failed")
    expect(c.customers_corporate_fix_external_ids([{"id": u2, "externalId": "u2"}]), 200, "fix external ids")
    equal(expect(c.customer_corporate("u2"), 200, "fixed")["customerCorporate"]["id"], u2, "found by new id")

    step("customers_combine_corporate")
    r = c.customers_combine_corporate([{"id": u2}], {"id": globex})
    expect(r, 200, "customers_combine_corporate")
    body = expect_error(c.customer_corporate("u2"), 404, "Not found", "a combined corporate customer")
    equal(body["combinedTo"]["id"], globex, "combinedTo")
    r = c.customers_combine_corporate([{"id": 999999}], {"id": globex})
    expect_error(r, 400, "Errors in the entity format", "combine an unknown corporate customer")

    print("scenario ok")


if __name__ == "__main__":
    main()
