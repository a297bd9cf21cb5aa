#!/usr/bin/env python3
"""Drives torg's CRM face with the official RetailCRM Python client (`retailcrm==5.3.0`, unmodified).

Usage: python crm_scenario.py BASE_URL API_KEY [OTHER_KEY [MANAGER_ID]]

- BASE_URL: torg's address, e.g. http://127.0.0.1:8080 (the client appends /api and /api/v5).
- API_KEY: a key with every scope on every site.
- OTHER_KEY (optional): a second key with customer_read/write and order_read/write; changes made with it
  must read back in history with `apiKey.current` false for API_KEY and true for OTHER_KEY.
- MANAGER_ID (optional): the id of an existing user; a customer managed by it must bring it back from
  telephony_manager.

The scenario creates every piece of reference data it needs itself, calls every method the CRM face offers
to this client, and checks status codes and the data that comes back. It stops at the first failed check
with a message naming the step, the expectation and the server's answer (exit status 1), and prints
`scenario ok` when everything held.
"""

import datetime
import json
import re
import sys

import retailcrm

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

STEP = ["start"]


def step(name):
    """Names the part of the scenario that runs next (for failure messages)."""
    STEP[0] = name
    print("-- " + name, flush=True)


def fail(message, response=None):
    print("FAILED at step '%s': %s" % (STEP[0], message), file=sys.stderr)
    if response is not None:
        print(
            "  status %s, body: %s"
            % (response.get_status_code(), json.dumps(response.get_response(), ensure_ascii=False)[:4000]),
            file=sys.stderr,
        )
    sys.exit(1)


def check(condition, message, response=None):
    if not condition:
        fail(message, response)


def equal(actual, expected, what, response=None):
    if actual != expected:
        fail("%s: expected %r, got %r" % (what, expected, actual), response)


def expect(response, status, what):
    """The answer has this status; `success` agrees with it; returns the parsed body."""
    body = response.get_response()
    if response.get_status_code() != status:
        fail("%s: expected HTTP %d, got %d" % (what, status, response.get_status_code()), response)
    if not isinstance(body, dict):
        fail("%s: body is not a JSON object" % what, response)
    if body.get("success") is not (status < 400):
        fail("%s: expected success=%s" % (what, status < 400), response)
    equal(response.is_successful(), status < 400, what + ": is_successful()", response)
    if status >= 400:
        check(isinstance(response.get_error_msg(), str), what + ": errorMsg is a string", response)
    return body


def expect_error(response, status, message, what):
    body = expect(response, status, what)
    equal(response.get_error_msg(), message, what + ": errorMsg", response)
    return body


def check_datetime(value, what):
    check(isinstance(value, str) and DATETIME.match(value), "%s: %r is not 'Y-m-d H:i:s'" % (what, value))


def day(value):
    """The `Y-m-d` part of a `Y-m-d H:i:s`."""
    return value[:10]


def shift(date_text, days):
    d = datetime.date.fromisoformat(date_text) + datetime.timedelta(days=days)
    return d.isoformat()


def check_pagination(body, limit, total, page, what):
    p = body.get("pagination")
    check(isinstance(p, dict), what + ": pagination is an object")
    pages = (total + limit - 1) // limit
    equal(
        p,
        {"limit": limit, "totalCount": total, "currentPage": page, "totalPageCount": pages},
        what + ": pagination",
    )


def by_code(container, code, what):
    check(isinstance(container, dict), what + " is an object keyed by code")
    check(code in container, "%s has %r" % (what, code))
    entry = container[code]
    equal(entry.get("code"), code, what + "[%s].code" % code)
    return entry


def in_list(container, code, what):
    check(isinstance(container, list), what + " is a list")
    found = [e for e in container if e.get("code") == code]
    equal(len(found), 1, "entries of %s with code %s" % (what, code))
    return found[0]


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base, key = sys.argv[1], sys.argv[2]
    other_key = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    manager_id = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
    c = retailcrm.v5(base, key)
    other = retailcrm.v5(base, other_key) if other_key else None

    # ------------------------------------------------------------------------------------------- meta
    step("api_versions")
    r = c.api_versions()
    body = expect(r, 200, "api_versions")
    equal(body.get("versions"), ["3.0", "4.0", "5.0"], "versions", r)

    step("api_credentials")
    r = c.api_credentials()
    body = expect(r, 200, "api_credentials")
    equal(body.get("siteAccess"), "access_full", "siteAccess", r)
    for scope in [
        "order_read",
        "order_write",
        "customer_read",
        "customer_write",
        "reference_read",
        "reference_write",
        "telephony_read",
        "telephony_write",
    ]:
        check(scope in body.get("scopes", []), "scopes include " + scope, r)
    creds = body.get("credentials")
    check(isinstance(creds, list) and creds, "credentials is a non-empty list", r)
    for path in creds:
        check(
            path.startswith("/api/") and not path.startswith("/api/v5/"),
            "credential %r is an unversioned API method path" % path,
            r,
        )
    for path in ["/api/orders/create", "/api/customers/{externalId}/edit", "/api/telephony/manager"]:
        check(path in creds, "credentials include " + path, r)
    check(isinstance(body.get("sitesAvailable"), list), "sitesAvailable is a list", r)

    step("system_info")
    r = c.system_info()
    body = expect(r, 200, "system_info")
    check(isinstance(body.get("systemVersion"), str) and body["systemVersion"], "systemVersion is set", r)
    equal(body.get("publicUrl"), base, "publicUrl", r)
    check(isinstance(body.get("technicalUrl"), str) and body["technicalUrl"], "technicalUrl is set", r)

    step("a wrong key is refused")
    r = retailcrm.v5(base, "not-a-key").orders()
    expect_error(r, 403, 'Wrong "apiKey" value.', "orders with a wrong key")

    # ------------------------------------------------------------------------------------- references
    step("sites_edit")
    r = c.sites_edit({"code": "py-shop", "name": "Python Shop", "url": "https://py.example", "currency": "EUR"})
    expect(r, 201, "sites_edit creating py-shop")
    r = c.sites_edit({"code": "py-shop", "name": "Python Shop 2", "url": "https://py2.example", "currency": "EUR"})
    expect(r, 200, "sites_edit updating py-shop")
    r = c.sites_edit({"code": "py-other", "name": "Python Other"})
    expect(r, 201, "sites_edit creating py-other")
    r = c.sites_edit({"code": "py-shop"})
    body = expect(r, 400, "sites_edit without a name")
    equal(body.get("errorMsg"), "Errors in the entity format", "errorMsg", r)

    step("sites")
    r = c.sites()
    body = expect(r, 200, "sites")
    shop = by_code(body.get("sites"), "py-shop", "sites")
    equal(shop.get("name"), "Python Shop 2", "sites[py-shop].name", r)
    equal(shop.get("url"), "https://py2.example", "sites[py-shop].url", r)
    equal(shop.get("currency"), "EUR", "sites[py-shop].currency", r)
    check(isinstance(shop.get("id"), int), "sites[py-shop].id is an integer", r)
    equal(by_code(body["sites"], "py-other", "sites").get("name"), "Python Other", "sites[py-other].name", r)

    step("api_credentials sees the new sites")
    r = c.api_credentials()
    body = expect(r, 200, "api_credentials")
    for code in ["py-shop", "py-other"]:
        check(code in body.get("sitesAvailable", []), "sitesAvailable has " + code, r)

    step("stores_edit")
    r = c.stores_edit({"code": "py-wh", "name": "Python WH", "type": "store-type-warehouse"})
    expect(r, 201, "stores_edit creating py-wh")
    r = c.stores_edit({"code": "py-wh", "name": "Python WH 2", "type": "store-type-retail", "active": False})
    expect(r, 200, "stores_edit updating py-wh")
    r = c.stores_edit({"code": "py-wh-bad", "name": "Bad", "type": "store-type-nonsense"})
    expect_error(r, 400, "Errors in the entity format", "stores_edit with an unknown type")

    step("stores")
    r = c.stores()
    body = expect(r, 200, "stores")
    wh = in_list(body.get("stores"), "py-wh", "stores")
    equal(wh.get("name"), "Python WH 2", "stores[py-wh].name", r)
    equal(wh.get("type"), "store-type-retail", "stores[py-wh].type", r)
    equal(wh.get("active"), False, "stores[py-wh].active", r)
    check(not [s for s in body["stores"] if s.get("code") == "py-wh-bad"], "the refused store is absent", r)

    step("statuses_edit")
    r = c.statuses_edit({"code": "py-new", "name": "Py new", "group": "new", "ordering": 50})
    expect(r, 201, "statuses_edit creating py-new")
    r = c.statuses_edit({"code": "py-new", "name": "Py new!", "group": "new", "ordering": 51})
    expect(r, 200, "statuses_edit updating py-new")
    r = c.statuses_edit({"code": "py-done", "name": "Py done", "group": "complete", "ordering": 52})
    expect(r, 201, "statuses_edit creating py-done")
    r = c.statuses_edit({"code": "py-lost", "name": "Py lost", "group": "no-such-group"})
    expect_error(r, 400, "Errors in the entity format", "statuses_edit with an unknown group")

    step("statuses")
    r = c.statuses()
    body = expect(r, 200, "statuses")
    st = by_code(body.get("statuses"), "py-new", "statuses")
    equal(st.get("name"), "Py new!", "statuses[py-new].name", r)
    equal(st.get("group"), "new", "statuses[py-new].group", r)
    equal(st.get("ordering"), 51, "statuses[py-new].ordering", r)
    equal(st.get("active"), True, "statuses[py-new].active", r)
    equal(by_code(body["statuses"], "py-done", "statuses").get("group"), "complete", "statuses[py-done].group", r)
    check("py-lost" not in body["statuses"], "the refused status is absent", r)

    step("status_groups")
    r = c.status_groups()
    body = expect(r, 200, "status_groups")
    groups = body.get("statusGroups")
    check("py-new" in by_code(groups, "new", "statusGroups").get("statuses", []), "group new lists py-new", r)
    check(
        "py-done" in by_code(groups, "complete", "statusGroups").get("statuses", []),
        "group complete lists py-done",
        r,
    )
    check("py-done" not in groups["new"]["statuses"], "group new does not list py-done", r)

    step("order_types_edit / order_types")
    r = c.order_types_edit({"code": "py-type", "name": "Py type"})
    expect(r, 201, "order_types_edit creating")
    r = c.order_types_edit({"code": "py-type", "name": "Py type 2", "defaultForApi": False})
    expect(r, 200, "order_types_edit updating")
    r = c.order_types()
    body = expect(r, 200, "order_types")
    equal(by_code(body.get("orderTypes"), "py-type", "orderTypes").get("name"), "Py type 2", "orderTypes name", r)

    step("order_methods_edit / order_methods")
    r = c.order_methods_edit({"code": "py-method", "name": "Py method"})
    expect(r, 201, "order_methods_edit creating")
    r = c.order_methods_edit({"code": "py-method", "name": "Py method 2"})
    expect(r, 200, "order_methods_edit updating")
    r = c.order_methods()
    body = expect(r, 200, "order_methods")
    equal(
        by_code(body.get("orderMethods"), "py-method", "orderMethods").get("name"),
        "Py method 2",
        "orderMethods name",
        r,
    )

    step("payment_types_edit / payment_types")
    r = c.payment_types_edit({"code": "py-card", "name": "Py card", "description": "cards"})
    expect(r, 201, "payment_types_edit creating")
    r = c.payment_types_edit({"code": "py-card", "name": "Py card 2", "description": "cards"})
    expect(r, 200, "payment_types_edit updating")
    r = c.payment_types()
    body = expect(r, 200, "payment_types")
    pt = by_code(body.get("paymentTypes"), "py-card", "paymentTypes")
    equal(pt.get("name"), "Py card 2", "paymentTypes name", r)
    equal(pt.get("description"), "cards", "paymentTypes description", r)

    step("payment_statuses_edit / payment_statuses")
    r = c.payment_statuses_edit({"code": "py-paid", "name": "Py paid", "paymentComplete": True})
    expect(r, 201, "payment_statuses_edit creating")
    r = c.payment_statuses_edit({"code": "py-paid", "name": "Py paid 2", "paymentComplete": True})
    expect(r, 200, "payment_statuses_edit updating")
    r = c.payment_statuses()
    body = expect(r, 200, "payment_statuses")
    ps = by_code(body.get("paymentStatuses"), "py-paid", "paymentStatuses")
    equal(ps.get("name"), "Py paid 2", "paymentStatuses name", r)
    equal(ps.get("paymentComplete"), True, "paymentStatuses paymentComplete", r)

    step("delivery_types_edit / delivery_types")
    r = c.delivery_types_edit({"code": "py-courier", "name": "Py courier", "defaultCost": 250})
    expect(r, 201, "delivery_types_edit creating")
    r = c.delivery_types_edit({"code": "py-courier", "name": "Py courier 2", "defaultCost": 300})
    expect(r, 200, "delivery_types_edit updating")
    r = c.delivery_types()
    body = expect(r, 200, "delivery_types")
    dt = by_code(body.get("deliveryTypes"), "py-courier", "deliveryTypes")
    equal(dt.get("name"), "Py courier 2", "deliveryTypes name", r)
    equal(dt.get("defaultCost"), 300, "deliveryTypes defaultCost", r)

    step("product_statuses_edit / product_statuses")
    r = c.product_statuses_edit({"code": "py-reserved", "name": "Py reserved", "cancelStatus": False})
    expect(r, 201, "product_statuses_edit creating")
    r = c.product_statuses_edit({"code": "py-reserved", "name": "Py reserved 2", "cancelStatus": False})
    expect(r, 200, "product_statuses_edit updating")
    r = c.product_statuses()
    body = expect(r, 200, "product_statuses")
    prs = by_code(body.get("productStatuses"), "py-reserved", "productStatuses")
    equal(prs.get("name"), "Py reserved 2", "productStatuses name", r)
    equal(prs.get("cancelStatus"), False, "productStatuses cancelStatus", r)

    step("price_types_edit / price_types (the client sends `priceTypes`)")
    r = c.price_types_edit({"code": "py-wholesale", "name": "Py wholesale"})
    expect(r, 201, "price_types_edit creating")
    r = c.price_types_edit({"code": "py-wholesale", "name": "Py wholesale 2"})
    expect(r, 200, "price_types_edit updating")
    r = c.price_types()
    body = expect(r, 200, "price_types")
    pt = in_list(body.get("priceTypes"), "py-wholesale", "priceTypes")
    equal(pt.get("name"), "Py wholesale 2", "priceTypes name", r)
    check(isinstance(pt.get("id"), int), "priceTypes id is an integer", r)

    # -------------------------------------------------------------------------------------- customers
    step("customer_create")
    ann = {
        "externalId": "py-c-1",
        "firstName": "Ann",
        "lastName": "Lee",
        "email": "ann@example.com",
        "phones": [{"number": "+1 555 000 1001"}],
    }
    if manager_id is not None:
        ann["managerId"] = manager_id
    r = c.customer_create(ann, site="py-shop")
    body = expect(r, 201, "customer_create")
    cid = body.get("id")
    check(isinstance(cid, int), "customer_create returns an integer id", r)
    r = c.customer_create({"externalId": "py-c-1", "firstName": "Again"}, site="py-shop")
    expect_error(r, 400, "Errors in the entity format", "customer_create with a taken externalId")
    r = c.customer_create({"externalId": "py-c-nosite", "firstName": "Nowhere"})
    expect_error(r, 400, "Parameter 'site' is missing", "customer_create without site (several sites)")

    step("customer by externalId and by id")
    r = c.customer("py-c-1", site="py-shop")
    body = expect(r, 200, "customer by externalId")
    cust = body.get("customer", {})
    equal(cust.get("id"), cid, "customer.id", r)
    equal(cust.get("externalId"), "py-c-1", "customer.externalId", r)
    equal(cust.get("site"), "py-shop", "customer.site", r)
    equal(cust.get("type"), "customer", "customer.type", r)
    equal(cust.get("firstName"), "Ann", "customer.firstName", r)
    equal(cust.get("lastName"), "Lee", "customer.lastName", r)
    equal(cust.get("email"), "ann@example.com", "customer.email", r)
    equal([p.get("number") for p in cust.get("phones", [])], ["+1 555 000 1001"], "customer.phones", r)
    if manager_id is not None:
        equal(cust.get("managerId"), manager_id, "customer.managerId", r)
    check_datetime(cust.get("createdAt"), "customer.createdAt")
    created_day = day(cust["createdAt"])
    r = c.customer(cid, uid_type="id")
    body = expect(r, 200, "customer by id")
    equal(body.get("customer", {}).get("externalId"), "py-c-1", "customer(by=id).externalId", r)
    r = c.customer("py-c-none", site="py-shop")
    expect_error(r, 404, "Not found", "customer unknown")

    step("customer_edit by externalId (no `by`)")
    r = c.customer_edit({"externalId": "py-c-1", "lastName": "Leigh"}, site="py-shop")
    body = expect(r, 200, "customer_edit by externalId")
    equal(body.get("id"), cid, "customer_edit id", r)

    step("customer_edit by id")
    r = c.customer_edit({"id": cid, "email": "anna@example.com", "vip": True}, uid_type="id")
    body = expect(r, 200, "customer_edit by id")
    equal(body.get("id"), cid, "customer_edit id", r)
    r = c.customer("py-c-1", site="py-shop")
    body = expect(r, 200, "customer after edits")
    cust = body["customer"]
    equal(cust.get("firstName"), "Ann", "firstName kept (partial edit)", r)
    equal(cust.get("lastName"), "Leigh", "lastName edited", r)
    equal(cust.get("email"), "anna@example.com", "email edited", r)
    equal(cust.get("vip"), True, "vip edited", r)
    r = c.customer_edit({"externalId": "py-c-none", "lastName": "X"}, site="py-shop")
    expect_error(r, 404, "Not found", "customer_edit unknown")

    step("customers_upload with a partial failure (460)")
    batch = [{"externalId": "py-c-%d" % i, "firstName": "Buyer%d" % i, "lastName": "Bulk"} for i in range(2, 25)]
    batch.append({"externalId": "py-c-1", "firstName": "Duplicate"})
    r = c.customers_upload(batch, site="py-shop")
    body = expect_error(r, 460, "Customers are loaded with errors", "customers_upload with a duplicate")
    uploaded = body.get("uploadedCustomers")
    check(isinstance(uploaded, list), "uploadedCustomers is a list", r)
    equal(sorted(u.get("externalId") for u in uploaded), sorted("py-c-%d" % i for i in range(2, 25)), "uploaded", r)
    check(all(isinstance(u.get("id"), int) for u in uploaded), "uploaded ids are integers", r)
    equal(body.get("failedCustomers"), [{"externalId": "py-c-1"}], "failedCustomers", r)
    check(r.get_errors(), "errors name the failure", r)
    uploaded_ids = {u["externalId"]: u["id"] for u in uploaded}
    r = c.customer("py-c-1", site="py-shop")
    equal(expect(r, 200, "customer py-c-1")["customer"].get("firstName"), "Ann", "the failed item changed nothing", r)

    step("customers_upload, all in")
    r = c.customers_upload(
        [{"externalId": "py-o-c-1", "firstName": "Olga"}, {"externalId": "py-o-c-2", "firstName": "Oleg"}],
        site="py-other",
    )
    body = expect(r, 200, "customers_upload")
    equal(
        sorted(u.get("externalId") for u in body.get("uploadedCustomers", [])),
        ["py-o-c-1", "py-o-c-2"],
        "uploadedCustomers",
        r,
    )

    step("customers: pagination")
    r = c.customers({"sites": ["py-shop"]}, limit=20, page=1)
    body = expect(r, 200, "customers page 1")
    check_pagination(body, 20, 24, 1, "customers page 1")
    first = [x["id"] for x in body.get("customers", [])]
    equal(len(first), 20, "customers on page 1", r)
    r = c.customers({"sites": ["py-shop"]}, limit=20, page=2)
    body = expect(r, 200, "customers page 2")
    check_pagination(body, 20, 24, 2, "customers page 2")
    second = [x["id"] for x in body.get("customers", [])]
    equal(len(second), 4, "customers on page 2", r)
    equal(set(first) & set(second), set(), "pages overlap", r)
    equal(set(first) | set(second), set(uploaded_ids.values()) | {cid}, "pages cover every customer", r)
    check(all(x.get("site") == "py-shop" for x in body["customers"]), "all on py-shop", r)
    r = c.customers({"sites": ["py-shop"]}, limit=50, page=1)
    body = expect(r, 200, "customers limit 50")
    check_pagination(body, 50, 24, 1, "customers limit 50")
    r = c.customers({"sites": ["py-shop"]}, limit=20, page=3)
    body = expect(r, 200, "customers past the end")
    equal(body.get("customers"), [], "customers past the end", r)
    r = c.customers({"sites": ["py-shop"]}, limit=7)
    expect(r, 400, "customers with limit 7")
    r = c.customers()
    body = expect(r, 200, "customers without a filter")
    check(body["pagination"]["totalCount"] >= 26, "customers without a filter see every site", r)

    step("customers: filters")
    r = c.customers({"name": "Leigh"})
    body = expect(r, 200, "customers name=Leigh")
    equal([x["id"] for x in body.get("customers", [])], [cid], "customers named Leigh", r)
    check_pagination(body, 20, 1, 1, "customers name=Leigh")
    r = c.customers({"vip": True})
    body = expect(r, 200, "customers vip=True (sent as the literal `True`)")
    equal([x["id"] for x in body.get("customers", [])], [cid], "vip customers", r)
    r = c.customers({"vip": False, "sites": ["py-shop"]}, limit=100)
    body = expect(r, 200, "customers vip=False")
    check_pagination(body, 100, 23, 1, "customers vip=False")
    check(cid not in [x["id"] for x in body["customers"]], "py-c-1 is vip", r)
    r = c.customers({"ids": [cid, uploaded_ids["py-c-7"]], "externalIds": ["py-c-7"]})
    body = expect(r, 200, "customers ids and externalIds")
    equal([x["externalId"] for x in body.get("customers", [])], ["py-c-7"], "customers by ids and externalIds", r)
    r = c.customers({"email": "anna@example.com"})
    body = expect(r, 200, "customers email")
    equal([x["id"] for x in body.get("customers", [])], [cid], "customers by email", r)
    r = c.customers({"sites": ["py-shop"], "dateFrom": created_day}, limit=50)
    body = expect(r, 200, "customers dateFrom today")
    equal(body["pagination"]["totalCount"], 24, "customers created from today", r)
    r = c.customers({"sites": ["py-shop"], "dateFrom": shift(created_day, 1)}, limit=50)
    body = expect(r, 200, "customers dateFrom tomorrow")
    check_pagination(body, 50, 0, 1, "customers dateFrom tomorrow")
    equal(body.get("customers"), [], "customers created from tomorrow", r)
    r = c.customers({"sites": ["py-shop"], "dateTo": shift(created_day, -1)})
    body = expect(r, 200, "customers dateTo yesterday")
    equal(body["pagination"]["totalCount"], 0, "customers created until yesterday", r)
    r = c.customers({"name": "Bulk", "sites": ["py-shop"]}, limit=20, page=2)
    body = expect(r, 200, "customers name=Bulk page 2")
    check_pagination(body, 20, 23, 2, "customers name=Bulk page 2")
    r = c.customers({"sites": ["py-other"]})
    body = expect(r, 200, "customers of py-other")
    equal(sorted(x["externalId"] for x in body["customers"]), ["py-o-c-1", "py-o-c-2"], "py-other customers", r)

    step("customers_fix_external_ids")
    moved = uploaded_ids["py-c-2"]
    r = c.customers_fix_external_ids([{"id": moved, "externalId": "py-c-2-fixed"}])
    expect(r, 200, "customers_fix_external_ids")
    r = c.customer("py-c-2-fixed", site="py-shop")
    equal(expect(r, 200, "customer by fixed externalId")["customer"].get("id"), moved, "fixed customer id", r)
    r = c.customer("py-c-2", site="py-shop")
    expect_error(r, 404, "Not found", "customer by the old externalId")

    if other is not None:
        step("customer_edit with another key")
        r = other.customer_edit({"externalId": "py-c-3", "firstName": "Changed"}, site="py-shop")
        expect(r, 200, "customer_edit with the other key")

    step("customers_history")
    records = []
    page = 1
    while True:
        r = c.customers_history({"sinceId": 0}, limit=20, page=page)
        body = expect(r, 200, "customers_history page %d" % page)
        check_datetime(body.get("generatedAt"), "customers_history.generatedAt")
        records.extend(body.get("history", []))
        if page >= body["pagination"]["totalPageCount"]:
            break
        page += 1
    total = body["pagination"]["totalCount"]
    equal(len(records), total, "customers history records over every page", r)
    ids = [h["id"] for h in records]
    equal(ids, sorted(set(ids)), "customers history ids strictly ascending", r)
    created = [h for h in records if h.get("created") and h.get("customer", {}).get("id") == cid]
    equal(len(created), 1, "one created record for py-c-1", r)
    h = created[0]
    equal(h.get("source"), "api", "created record source", r)
    equal(h.get("apiKey"), {"current": True}, "created record apiKey", r)
    equal(h["customer"].get("externalId"), "py-c-1", "created record carries the customer", r)
    equal(h["customer"].get("firstName"), "Ann", "created record carries the whole customer", r)
    equal(h["customer"].get("lastName"), "Lee", "created record carries the customer as created", r)
    check_datetime(h.get("createdAt"), "history createdAt")
    changes = [x for x in records if x.get("field") == "last_name" and x.get("customer", {}).get("id") == cid]
    equal(len(changes), 1, "one last_name change", r)
    equal((changes[0].get("oldValue"), changes[0].get("newValue")), ("Lee", "Leigh"), "last_name change", r)
    equal(changes[0].get("apiKey"), {"current": True}, "last_name change apiKey", r)
    check(changes[0]["id"] > h["id"], "the change comes after the creation", r)
    emails = [x for x in records if x.get("field") == "email" and x.get("customer", {}).get("id") == cid]
    equal([(x.get("oldValue"), x.get("newValue")) for x in emails], [("ann@example.com", "anna@example.com")], "email", r)
    fixes = [x for x in records if x.get("field") == "external_id" and x.get("customer", {}).get("id") == moved]
    equal([(x.get("oldValue"), x.get("newValue")) for x in fixes], [("py-c-2", "py-c-2-fixed")], "external_id", r)
    uploads = [x for x in records if x.get("created") and x.get("customer", {}).get("id") in uploaded_ids.values()]
    equal(len(uploads), 23, "a created record per uploaded customer", r)
    if other is not None:
        foreign = [x for x in records if x.get("field") == "first_name" and x.get("newValue") == "Changed"]
        equal(len(foreign), 1, "the other key's change is in history", r)
        equal(foreign[0].get("apiKey"), {"current": False}, "apiKey.current for another key's change", r)
        r = other.customers_history({"sinceId": foreign[0]["id"] - 1}, limit=20)
        body = expect(r, 200, "customers_history read with the other key")
        equal(body["history"][0]["id"], foreign[0]["id"], "first record after sinceId", r)
        equal(body["history"][0].get("apiKey"), {"current": True}, "apiKey.current for its own change", r)

    step("customers_history: sinceId is exclusive and pagination counts the filtered set")
    since = records[4]["id"]
    r = c.customers_history({"sinceId": since}, limit=20)
    body = expect(r, 200, "customers_history sinceId")
    after = [x["id"] for x in records if x["id"] > since]
    check_pagination(body, 20, len(after), 1, "customers_history sinceId")
    equal([x["id"] for x in body.get("history", [])], after[:20], "records after sinceId", r)
    r = c.customers_history({"sinceId": records[-1]["id"]}, limit=20)
    body = expect(r, 200, "customers_history at the end")
    equal(body.get("history"), [], "no records after the last one", r)
    check_pagination(body, 20, 0, 1, "customers_history at the end")
    r = c.customers_history({"customerId": cid}, limit=20)
    body = expect(r, 200, "customers_history for one customer")
    check(body["history"] and all(x["customer"]["id"] == cid for x in body["history"]), "only py-c-1", r)

    # ----------------------------------------------------------------------------------------- orders
    step("order_create")
    order = {
        "externalId": "py-o-1",
        "customer": {"externalId": "py-c-1"},
        "status": "py-new",
        "orderType": "py-type",
        "orderMethod": "py-method",
        "items": [{"productName": "Widget", "initialPrice": 10.5, "quantity": 2}],
        "delivery": {"code": "py-courier", "cost": 5},
        "customFields": {"weight": 3},
    }
    r = c.order_create(order, site="py-shop")
    body = expect(r, 201, "order_create")
    oid = body.get("id")
    check(isinstance(oid, int), "order_create returns an integer id", r)
    o = body.get("order")
    check(isinstance(o, dict), "order_create returns the order", r)
    equal(o.get("id"), oid, "order.id", r)
    number = o.get("number")
    check(isinstance(number, str) and number, "order.number is assigned", r)
    equal(o.get("externalId"), "py-o-1", "order.externalId", r)
    equal(o.get("site"), "py-shop", "order.site", r)
    equal(o.get("status"), "py-new", "order.status", r)
    equal(o.get("orderType"), "py-type", "order.orderType", r)
    equal(o.get("orderMethod"), "py-method", "order.orderMethod", r)
    equal(o.get("customer", {}).get("id"), cid, "order.customer.id", r)
    equal(o.get("customer", {}).get("externalId"), "py-c-1", "order.customer.externalId", r)
    equal(o.get("delivery", {}).get("code"), "py-courier", "order.delivery.code", r)
    equal(o.get("delivery", {}).get("cost"), 5, "order.delivery.cost", r)
    items = o.get("items", [])
    equal(len(items), 1, "order items", r)
    equal(items[0].get("productName"), "Widget", "item productName", r)
    equal(items[0].get("quantity"), 2, "item quantity", r)
    equal(items[0].get("initialPrice"), 10.5, "item initialPrice", r)
    check(isinstance(items[0].get("id"), int), "item id is an integer", r)
    equal(o.get("summ"), 21, "order.summ", r)
    equal(o.get("totalSumm"), 26, "order.totalSumm", r)
    equal(o.get("customFields"), {"weight": 3}, "order.customFields", r)
    equal(o.get("payments"), {}, "order.payments is an empty object", r)
    check_datetime(o.get("createdAt"), "order.createdAt")
    order_day = day(o["createdAt"])
    r = c.order_create({"externalId": "py-o-1", "items": []}, site="py-shop")
    expect_error(r, 400, "Errors in the entity format", "order_create with a taken externalId")
    r = c.order_create({"externalId": "py-o-x", "status": "no-such-status"}, site="py-shop")
    expect_error(r, 400, "Errors in the entity format", "order_create with an unknown status")

    step("order by externalId and by id")
    r = c.order("py-o-1", site="py-shop")
    body = expect(r, 200, "order by externalId")
    equal(body.get("order", {}).get("id"), oid, "order.id", r)
    equal(body["order"].get("number"), number, "order.number", r)
    equal(body["order"].get("customer", {}).get("id"), cid, "order.customer.id", r)
    r = c.order(oid, uid_type="id")
    body = expect(r, 200, "order by id")
    equal(body.get("order", {}).get("externalId"), "py-o-1", "order(by=id).externalId", r)
    r = c.order("py-o-none", site="py-shop")
    expect_error(r, 404, "Not found", "order unknown")

    step("order_edit by externalId (no `by`)")
    r = c.order_edit({"externalId": "py-o-1", "status": "py-done", "managerComment": "paid"}, site="py-shop")
    body = expect(r, 200, "order_edit by externalId")
    equal(body.get("id"), oid, "order_edit id", r)
    equal(body.get("order", {}).get("status"), "py-done", "order_edit order.status", r)

    step("order_edit by id")
    r = c.order_edit({"id": oid, "customerComment": "call first"}, uid_type="id", site="py-shop")
    body = expect(r, 200, "order_edit by id")
    equal(body.get("id"), oid, "order_edit id", r)
    r = c.order("py-o-1", site="py-shop")
    o = expect(r, 200, "order after edits")["order"]
    equal(o.get("status"), "py-done", "status edited", r)
    equal(o.get("managerComment"), "paid", "managerComment edited", r)
    equal(o.get("customerComment"), "call first", "customerComment edited", r)
    equal(len(o.get("items", [])), 1, "items kept (partial edit)", r)
    equal(o.get("number"), number, "number kept", r)
    item_id = o["items"][0]["id"]
    r = c.order_edit(
        {
            "externalId": "py-o-1",
            "items": [
                {"id": item_id, "quantity": 3},
                {"productName": "Spare", "initialPrice": 2, "quantity": 1},
            ],
        },
        site="py-shop",
    )
    body = expect(r, 200, "order_edit with items")
    items = body["order"].get("items", [])
    equal([(i.get("productName"), i.get("quantity")) for i in items], [("Widget", 3), ("Spare", 1)], "items", r)
    equal(items[0].get("id"), item_id, "the kept item keeps its id", r)
    equal(body["order"].get("summ"), 33.5, "order.summ after the items edit", r)
    equal(body["order"].get("totalSumm"), 38.5, "order.totalSumm after the items edit", r)
    r = c.order_edit({"externalId": "py-o-none", "status": "py-done"}, site="py-shop")
    expect_error(r, 404, "Not found", "order_edit unknown")

    step("order_create for another customer")
    r = c.order_create(
        {
            "externalId": "py-o-2",
            "customer": {"externalId": "py-c-3"},
            "items": [{"productName": "Gadget", "initialPrice": 100, "quantity": 1}],
            "customFields": {"weight": 10},
        },
        site="py-shop",
    )
    body = expect(r, 201, "order_create py-o-2")
    oid2 = body["id"]
    equal(body["order"].get("status"), "new", "default status", r)
    check(body["order"].get("number") != number, "numbers differ", r)

    step("orders_upload with a partial failure (460)")
    batch = [
        {
            "externalId": "py-o-%d" % i,
            "customer": {"externalId": "py-c-%d" % i},
            "items": [{"productName": "Bolt %d" % i, "initialPrice": i, "quantity": 1}],
        }
        for i in range(3, 25)
    ]
    batch.append({"externalId": "py-o-1", "items": [{"productName": "Dup", "initialPrice": 1, "quantity": 1}]})
    r = c.orders_upload(batch, site="py-shop")
    body = expect_error(r, 460, "Orders are loaded with errors", "orders_upload with a duplicate")
    uploaded = body.get("uploadedOrders")
    check(isinstance(uploaded, list), "uploadedOrders is a list", r)
    equal(sorted(u.get("externalId") for u in uploaded), sorted("py-o-%d" % i for i in range(3, 25)), "uploaded", r)
    check(all(isinstance(u.get("id"), int) for u in uploaded), "uploaded ids are integers", r)
    equal(body.get("failedOrders"), [{"externalId": "py-o-1"}], "failedOrders", r)
    check(r.get_errors(), "errors name the failure", r)
    order_ids = {u["externalId"]: u["id"] for u in uploaded}
    r = c.order("py-o-5", site="py-shop")
    body = expect(r, 200, "an uploaded order")
    equal(body["order"].get("customer", {}).get("externalId"), "py-c-5", "uploaded order's customer", r)
    equal(body["order"].get("items", [{}])[0].get("productName"), "Bolt 5", "uploaded order's item", r)

    step("orders_upload, all in")
    r = c.orders_upload(
        [{"externalId": "py-oo-1", "customer": {"externalId": "py-o-c-1"}, "items": []}], site="py-other"
    )
    body = expect(r, 200, "orders_upload")
    equal([u.get("externalId") for u in body.get("uploadedOrders", [])], ["py-oo-1"], "uploadedOrders", r)
    other_order = body["uploadedOrders"][0]["id"]
    equal([(o.get("id"), o.get("externalId"), o.get("site")) for o in body.get("orders", [])],
          [(other_order, "py-oo-1", "py-other")], "orders_upload answers with the created orders", r)

    step("orders: pagination")
    all_shop = {oid, oid2} | set(order_ids.values())
    r = c.orders({"sites": ["py-shop"]}, limit=20, page=1)
    body = expect(r, 200, "orders page 1")
    check_pagination(body, 20, 24, 1, "orders page 1")
    first = [x["id"] for x in body.get("orders", [])]
    r = c.orders({"sites": ["py-shop"]}, limit=20, page=2)
    body = expect(r, 200, "orders page 2")
    check_pagination(body, 20, 24, 2, "orders page 2")
    second = [x["id"] for x in body.get("orders", [])]
    equal((len(first), len(second)), (20, 4), "orders per page", r)
    equal(set(first) | set(second), all_shop, "pages cover every order", r)
    r = c.orders({"sites": ["py-other"]})
    body = expect(r, 200, "orders of py-other")
    equal([x["id"] for x in body["orders"]], [other_order], "py-other orders", r)
    r = c.orders()
    body = expect(r, 200, "orders without a filter")
    equal(body["pagination"]["totalCount"], 25, "orders without a filter see every site", r)

    step("orders: extendedStatus")
    r = c.orders({"extendedStatus": ["py-done"]})
    body = expect(r, 200, "orders extendedStatus=py-done")
    equal([x["id"] for x in body["orders"]], [oid], "orders in py-done", r)
    check_pagination(body, 20, 1, 1, "orders extendedStatus=py-done")
    r = c.orders({"extendedStatus": ["complete"], "sites": ["py-shop"]})
    body = expect(r, 200, "orders extendedStatus=complete (a group)")
    equal([x["id"] for x in body["orders"]], [oid], "orders in group complete", r)
    r = c.orders({"extendedStatus": ["new"], "sites": ["py-shop"]}, limit=20, page=2)
    body = expect(r, 200, "orders extendedStatus=new page 2")
    check_pagination(body, 20, 23, 2, "orders extendedStatus=new page 2")
    equal(len(body["orders"]), 3, "orders on page 2 of status new", r)
    check(all(x["status"] == "new" for x in body["orders"]), "status new only", r)
    r = c.orders({"extendedStatus": ["py-done", "new"], "sites": ["py-shop"]}, limit=50)
    body = expect(r, 200, "orders extendedStatus=py-done,new")
    equal(body["pagination"]["totalCount"], 24, "orders in py-done or new", r)

    step("orders: createdAtFrom / createdAtTo")
    r = c.orders({"createdAtFrom": order_day, "sites": ["py-shop"]}, limit=50)
    body = expect(r, 200, "orders createdAtFrom today")
    equal(body["pagination"]["totalCount"], 24, "orders created from today", r)
    r = c.orders({"createdAtFrom": shift(order_day, 1)})
    body = expect(r, 200, "orders createdAtFrom tomorrow")
    check_pagination(body, 20, 0, 1, "orders createdAtFrom tomorrow")
    r = c.orders({"createdAtTo": shift(order_day, -1)})
    body = expect(r, 200, "orders createdAtTo yesterday")
    equal(body["orders"], [], "orders created until yesterday", r)
    r = c.orders({"createdAtFrom": "31.12.2024"})
    expect(r, 400, "orders createdAtFrom in a wrong format")

    step("orders: customer, numbers, customFields, several filters at once")
    r = c.orders({"customer": "Leigh"})
    body = expect(r, 200, "orders customer=Leigh")
    equal([x["id"] for x in body["orders"]], [oid], "orders of Leigh", r)
    r = c.orders({"customer": "anna@example.com"})
    body = expect(r, 200, "orders customer=<email>")
    equal([x["id"] for x in body["orders"]], [oid], "orders of anna@example.com", r)
    r = c.orders({"numbers": [number]})
    body = expect(r, 200, "orders numbers")
    equal([x["id"] for x in body["orders"]], [oid], "orders by number", r)
    r = c.orders({"customFields": {"weight": {"min": 1, "max": 5}}})
    body = expect(r, 200, "orders customFields weight 1..5")
    equal([x["id"] for x in body["orders"]], [oid], "orders weighing 1..5", r)
    r = c.orders({"customFields": {"weight": {"min": 5}}})
    body = expect(r, 200, "orders customFields weight >= 5")
    equal([x["id"] for x in body["orders"]], [oid2], "orders weighing 5 or more", r)
    r = c.orders({"customFields": {"weight": {"max": 2}}})
    body = expect(r, 200, "orders customFields weight <= 2")
    equal(body["orders"], [], "orders weighing 2 or less", r)
    r = c.orders(
        {
            "extendedStatus": ["py-done"],
            "createdAtFrom": order_day,
            "customer": "Leigh",
            "sites": ["py-shop"],
            "numbers": [number],
        },
        limit=50,
        page=1,
    )
    body = expect(r, 200, "orders with several filters")
    equal([x["id"] for x in body["orders"]], [oid], "orders matching every filter", r)
    check_pagination(body, 50, 1, 1, "orders with several filters")
    r = c.orders({"extendedStatus": ["py-done"], "sites": ["py-other"]})
    body = expect(r, 200, "orders py-done on py-other")
    equal(body["orders"], [], "no py-done order on py-other", r)

    step("orders_fix_external_ids")
    moved_order = order_ids["py-o-3"]
    r = c.orders_fix_external_ids([{"id": moved_order, "externalId": "py-o-3-fixed"}])
    expect(r, 200, "orders_fix_external_ids")
    r = c.order("py-o-3-fixed", site="py-shop")
    equal(expect(r, 200, "order by fixed externalId")["order"].get("id"), moved_order, "fixed order id", r)
    r = c.order("py-o-3", site="py-shop")
    expect_error(r, 404, "Not found", "order by the old externalId")

    step("orders_statuses")
    r = c.orders_statuses([oid, moved_order], ["py-o-2"])
    body = expect(r, 200, "orders_statuses")
    got = sorted(((x.get("id"), x.get("externalId"), x.get("status"), x.get("group")) for x in body["orders"]))
    want = sorted(
        [
            (oid, "py-o-1", "py-done", "complete"),
            (moved_order, "py-o-3-fixed", "new", "new"),
            (oid2, "py-o-2", "new", "new"),
        ]
    )
    equal(got, want, "orders_statuses", r)

    if other is not None:
        step("order_edit with another key")
        r = other.order_edit({"externalId": "py-o-2", "status": "py-done"}, site="py-shop")
        expect(r, 200, "order_edit with the other key")

    step("orders_history")
    records = []
    page = 1
    while True:
        r = c.orders_history({"sinceId": 0}, limit=20, page=page)
        body = expect(r, 200, "orders_history page %d" % page)
        check_datetime(body.get("generatedAt"), "orders_history.generatedAt")
        records.extend(body.get("history", []))
        if page >= body["pagination"]["totalPageCount"]:
            break
        page += 1
    equal(len(records), body["pagination"]["totalCount"], "orders history records over every page", r)
    ids = [h["id"] for h in records]
    equal(ids, sorted(set(ids)), "orders history ids strictly ascending", r)
    created = [h for h in records if h.get("created") and h.get("order", {}).get("id") == oid]
    equal(len(created), 1, "one created record for py-o-1", r)
    h = created[0]
    equal(h.get("source"), "api", "created record source", r)
    equal(h.get("apiKey"), {"current": True}, "created record apiKey", r)
    full = h["order"]
    equal(full.get("externalId"), "py-o-1", "created record order.externalId", r)
    equal(full.get("number"), number, "created record order.number", r)
    equal(full.get("status"), "py-new", "created record order.status (as created)", r)
    equal(full.get("site"), "py-shop", "created record order.site", r)
    equal([i.get("productName") for i in full.get("items", [])], ["Widget"], "created record order.items", r)
    equal(full.get("customer", {}).get("id"), cid, "created record order.customer", r)
    equal(full.get("delivery", {}).get("code"), "py-courier", "created record order.delivery", r)
    equal((h.get("field"), h.get("oldValue"), h.get("newValue")), ("status", None, {"code": "py-new"}),
          "a created record opens with the order's first status", r)
    check(isinstance(full.get("customer", {}).get("firstName"), str), "created record carries the whole customer", r)
    status = [x for x in records if x.get("field") == "status" and x.get("order", {}).get("id") == oid
              and not x.get("created")]
    equal(len(status), 1, "one status change of py-o-1", r)
    s = status[0]
    equal(s.get("oldValue"), {"code": "py-new"}, "status oldValue", r)
    equal(s.get("newValue"), {"code": "py-done"}, "status newValue", r)
    equal(s.get("apiKey"), {"current": True}, "status change apiKey", r)
    equal(s.get("source"), "api", "status change source", r)
    check(s["id"] > h["id"], "the change comes after the creation", r)
    check("created" not in s, "a change is not a creation", r)
    equal(s["order"].get("id"), oid, "status change names the order", r)
    comments = [x for x in records if x.get("field") == "manager_comment" and x.get("order", {}).get("id") == oid]
    equal([(x.get("oldValue"), x.get("newValue")) for x in comments], [(None, "paid")], "manager_comment", r)
    comments = [x for x in records if x.get("field") == "customer_comment" and x.get("order", {}).get("id") == oid]
    equal([(x.get("oldValue"), x.get("newValue")) for x in comments], [(None, "call first")], "customer_comment", r)
    quantity = [x for x in records if x.get("field") == "order_product.quantity" and x["order"]["id"] == oid]
    equal([(x.get("oldValue"), x.get("newValue")) for x in quantity], [(2, 3)], "order_product.quantity", r)
    equal(quantity[0].get("item", {}).get("id"), item_id, "order_product.quantity names the item", r)
    added = [x for x in records if x.get("field") == "order_product" and x["order"]["id"] == oid]
    equal(len(added), 1, "one order_product record", r)
    equal(added[0].get("oldValue"), None, "order_product oldValue of an added item", r)
    equal(added[0].get("item", {}).get("productName"), "Spare", "order_product names the added item", r)
    fixes = [x for x in records if x.get("field") == "external_id" and x.get("order", {}).get("id") == moved_order]
    equal([(x.get("oldValue"), x.get("newValue")) for x in fixes], [("py-o-3", "py-o-3-fixed")], "external_id", r)
    uploads = [x for x in records if x.get("created") and x.get("order", {}).get("id") in order_ids.values()]
    equal(len(uploads), 22, "a created record per uploaded order", r)
    if other is not None:
        foreign = [x for x in records if x.get("field") == "status" and x.get("order", {}).get("id") == oid2
                   and not x.get("created")]
        equal(len(foreign), 1, "the other key's change is in history", r)
        equal(foreign[0].get("newValue"), {"code": "py-done"}, "the other key's status change", r)
        equal(foreign[0].get("apiKey"), {"current": False}, "apiKey.current for another key's change", r)
        r = other.orders_history({"sinceId": foreign[0]["id"] - 1}, limit=20)
        body = expect(r, 200, "orders_history read with the other key")
        equal(body["history"][0]["id"], foreign[0]["id"], "first record after sinceId", r)
        equal(body["history"][0].get("apiKey"), {"current": True}, "apiKey.current for its own change", r)

    step("orders_history: sinceId is exclusive and pagination counts the filtered set")
    since = s["id"] - 1
    r = c.orders_history({"sinceId": since}, limit=20)
    body = expect(r, 200, "orders_history sinceId")
    after = [x["id"] for x in records if x["id"] > since]
    check_pagination(body, 20, len(after), 1, "orders_history sinceId")
    equal([x["id"] for x in body["history"]], after[:20], "records after sinceId", r)
    equal(body["history"][0]["id"], s["id"], "the first record after sinceId", r)
    r = c.orders_history({"sinceId": records[-1]["id"]}, limit=50)
    body = expect(r, 200, "orders_history at the end")
    equal(body.get("history"), [], "no records after the last one", r)
    check_pagination(body, 50, 0, 1, "orders_history at the end")
    r = c.orders_history({"orderId": oid}, limit=100)
    body = expect(r, 200, "orders_history for one order")
    check(body["history"] and all(x["order"]["id"] == oid for x in body["history"]), "only py-o-1", r)
    equal(body["history"][0].get("created"), True, "the order's history starts with its creation", r)

    # -------------------------------------------------------------------------------------- telephony
    step("telephony_calls_upload")
    calls = [
        {
            "date": "2024-05-01 10:00:00",
            "type": "in",
            "phone": "+15550001001",
            "code": "101",
            "result": "answered",
            "duration": 30,
            "externalId": "py-call-1",
        },
        {"date": "2024-05-01 11:00:00", "type": "out", "phone": "+15550001002", "externalId": "py-call-2"},
    ]
    r = c.telephony_calls_upload(calls)
    body = expect(r, 200, "telephony_calls_upload")
    equal(body.get("processedCallsCount"), 2, "processedCallsCount", r)
    equal(body.get("duplicateCalls"), [], "duplicateCalls", r)
    r = c.telephony_calls_upload(calls[:1])
    body = expect(r, 200, "telephony_calls_upload again")
    equal(body.get("processedCallsCount"), 0, "processedCallsCount of a repeat", r)
    equal(body.get("duplicateCalls"), ["py-call-1"], "duplicateCalls of a repeat", r)
    r = c.telephony_calls_upload([{"date": "2024-05-01 10:00:00", "type": "sideways", "phone": "+15550001001"}])
    body = expect_error(r, 400, "Errors in the entity format", "telephony_calls_upload with a bad type")
    check(any("type" in k for k in r.get_errors()), "the error names the type", r)

    step("telephony_call_event")
    r = c.telephony_call_event({"phone": "+15550001001", "type": "in", "codes": ["101"], "site": "py-shop"})
    expect(r, 200, "telephony_call_event in")
    r = c.telephony_call_event({"phone": "+15550001001", "type": "hangup", "codes": ["101"]})
    expect(r, 200, "telephony_call_event hangup")
    r = c.telephony_call_event({"phone": "+15550001001", "type": "ring-ring", "codes": ["101"]})
    expect_error(r, 400, "Errors in the entity format", "telephony_call_event with a bad type")

    step("telephony_manager")
    r = c.telephony_manager("+15550001001")
    body = expect(r, 200, "telephony_manager")
    found = body.get("customer")
    check(isinstance(found, dict), "telephony_manager finds the customer", r)
    equal(found.get("id"), cid, "telephony_manager customer.id", r)
    equal(found.get("externalId"), "py-c-1", "telephony_manager customer.externalId", r)
    equal(found.get("lastName"), "Leigh", "telephony_manager customer.lastName", r)
    if manager_id is not None:
        check(isinstance(body.get("manager"), dict), "telephony_manager names the manager", r)
    if "manager" in body:
        check(isinstance(body["manager"], dict), "manager is an object", r)
        if manager_id is not None:
            equal(body["manager"].get("id"), manager_id, "telephony_manager manager.id", r)
        else:
            equal(body["manager"].get("id"), cust.get("managerId"), "telephony_manager manager.id", r)
    r = c.telephony_manager("+19998887766")
    body = expect(r, 200, "telephony_manager for an unknown phone")
    check("customer" not in body and "manager" not in body, "nobody for an unknown phone", r)

    print("scenario ok")


if __name__ == "__main__":
    main()
