#!/usr/bin/env python3
"""Drives torg's CRM face's users, integration modules, custom fields, notes, reference books and settings
with the official RetailCRM Python client (`retailcrm==5.3.0`, unmodified).

Usage: python crm_definitions_scenario.py BASE_URL API_KEY MANAGER_ID OTHER_USER_ID

- API_KEY: a key with every scope on every site.
- MANAGER_ID: an active manager in group `manager`; OTHER_USER_ID: an inactive administrator in groups
  `director` and `manager`.

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import json
import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, fail, step, check_datetime  # noqa: F401


def main():
    base, key, manager, other = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    c = retailcrm.v5(base, key)

    step("users")
    r = c.users()
    body = expect(r, 200, "users")
    equal([u["id"] for u in body["users"]], [manager, other], "users, by id")
    equal(body["pagination"]["totalCount"], 2, "users: totalCount")
    first = body["users"][0]
    check_datetime(first["createdAt"], "users[0].createdAt")
    equal(first["groups"][0]["code"], "manager", "users[0].groups[0].code")
    body = expect(c.users({"active": 0}), 200, "users active=0")
    equal([u["id"] for u in body["users"]], [other], "users active=0")
    body = expect(c.users({"groups": ["director"]}), 200, "users in group director")
    equal([u["id"] for u in body["users"]], [other], "users in group director")
    body = expect(c.users({"isManager": 1, "status": "free"}), 200, "free managers")
    check(manager in [u["id"] for u in body["users"]], "the manager is a free manager", r)
    expect_error(c.users({"active": 3}), 400, "Errors in the input parameters", "users active=3")

    step("user / user_status")
    body = expect(c.user(manager), 200, "user")
    equal(body["user"]["firstName"], "Mira", "user.firstName")
    expect(c.user_status(manager, "dinner"), 200, "user_status")
    equal(expect(c.user(manager), 200, "user")["user"]["status"], "dinner", "status after user_status")
    expect(c.user_status(manager, "free"), 200, "user_status back")
    expect_error(c.user(999999), 404, "Not found", "unknown user")

    step("user_groups")
    body = expect(c.user_groups(), 200, "user_groups")
    equal([g["code"] for g in body["groups"]], ["manager", "director"], "user group codes")
    check(isinstance(body["groups"][0]["grantedSites"], list), "grantedSites is a list", r)

    step("integration_module_edit / integration_module")
    module = {
        "code": "torg-shop", "integrationCode": "torg-shop", "active": True, "name": "Shop module",
        "clientId": "client-42", "baseUrl": "https://shop.example/", "accountUrl": "https://shop.example/crm",
        "actions": {"activity": "/activity"}, "availableCountries": ["RU", "KZ"],
    }
    r = c.integration_module_edit(module)
    expect(r, 201, "integration_module_edit (new)")
    module["name"] = "Shop module 2"
    expect(c.integration_module_edit(module), 200, "integration_module_edit (again)")
    body = expect(c.integration_module("torg-shop"), 200, "integration_module")
    equal(body["integrationModule"]["name"], "Shop module 2", "module name")
    equal(body["integrationModule"]["availableCountries"], ["RU", "KZ"], "module countries")
    expect_error(c.integration_module("no-such-module"), 404, "Not found", "unknown module")

    step("integration_module_update_scopes")
    r = c.integration_module_update_scopes("torg-shop", {"scopes": ["order_read", "integration_read"]})
    body = expect(r, 200, "update_scopes")
    module_key = body["apiKey"]
    check(isinstance(module_key, str) and len(module_key) >= 20, "a new api key", r)
    mc = retailcrm.v5(base, module_key)
    body = expect(mc.api_credentials(), 200, "credentials of the module's key")
    equal(sorted(body["scopes"]), ["integration_read", "order_read"], "the module's scopes")
    expect_error(mc.customers(), 403, "Access denied.", "the module's key reads no customers")

    step("custom_dictionary_create / custom_dictionaries / custom_dictionary / custom_dictionary_edit")
    dictionary = {"code": "sizes", "name": "Sizes", "elements": [
        {"code": "s", "name": "Small", "ordering": 10}, {"code": "m", "name": "Medium", "ordering": 20}]}
    body = expect(c.custom_dictionary_create(dictionary), 201, "custom_dictionary_create")
    equal(body["code"], "sizes", "created dictionary code")
    body = expect(c.custom_dictionaries({"name": "Siz"}), 200, "custom_dictionaries")
    equal([d["code"] for d in body["customDictionaries"]], ["sizes"], "dictionaries by name")
    dictionary["elements"].append({"code": "l", "name": "Large", "ordering": 30})
    expect(c.custom_dictionary_edit(dictionary), 200, "custom_dictionary_edit")
    body = expect(c.custom_dictionary("sizes"), 200, "custom_dictionary")
    equal([e["code"] for e in body["customDictionary"]["elements"]], ["s", "m", "l"], "dictionary elements")

    step("custom_field_create / custom_fields / custom_field / custom_field_edit")
    field = {"code": "size", "name": "Size", "type": "dictionary", "dictionary": "sizes", "entity": "order"}
    body = expect(c.custom_field_create(field), 201, "custom_field_create")
    equal(body["code"], "size", "created field code")
    expect(c.custom_field_create({"code": "vip_since", "name": "VIP since", "type": "date", "entity": "customer"}),
           201, "custom_field_create (customer)")
    body = expect(c.custom_fields({"entity": "order"}), 200, "custom_fields")
    equal([f["code"] for f in body["customFields"]], ["size"], "order custom fields")
    body = expect(c.custom_field("size", "order"), 200, "custom_field")
    equal(body["customField"]["dictionary"], "sizes", "field dictionary")
    expect(c.custom_field_edit({"code": "size", "entity": "order", "name": "Box size"}), 200, "custom_field_edit")
    equal(expect(c.custom_field("size", "order"), 200, "custom_field")["customField"]["name"], "Box size",
          "field name after edit")

    step("custom field values on orders")
    r = c.order_create({"externalId": "def-1", "firstName": "Lev", "customFields": {"size": "m"}})
    expect(r, 201, "order with a dictionary value")
    r = c.order_create({"externalId": "def-2", "firstName": "Lev", "customFields": {"size": "xxl"}})
    body = expect_error(r, 400, "Errors in the entity format", "order with a value outside the dictionary")
    check("customFields.size" in body.get("errors", {}), "the error names customFields.size", r)

    step("customer_note_create / customer_notes / customer_note_delete")
    expect(c.customer_create({"externalId": "def-c1", "firstName": "Nina"}), 201, "customer for notes")
    body = expect(c.customer_note_create({"customer": {"externalId": "def-c1"}, "managerId": manager,
                                          "text": "Calls after six"}), 201, "customer_note_create")
    note_id = body["id"]
    body = expect(c.customer_notes({"customerExternalIds": ["def-c1"]}), 200, "customer_notes")
    equal([n["id"] for n in body["notes"]], [note_id], "notes of the customer")
    equal(body["notes"][0]["managerId"], manager, "note managerId")
    check_datetime(body["notes"][0]["createdAt"], "note createdAt")
    expect(c.customer_note_delete(note_id), 200, "customer_note_delete")
    expect_error(c.customer_note_delete(note_id), 404, "Note not found map", "deleted note")

    step("reference books")
    body = expect(c.countries(), 200, "countries")
    check("RU" in body["countriesIso"], "countries hold RU", c.countries())
    body = expect(c.currencies_create({"code": "USD", "isAutoConvert": False}), 201, "currencies_create")
    usd = body["id"]
    expect(c.currencies_edit({"id": usd, "code": "USD", "isAutoConvert": True}), 200, "currencies_edit")
    body = expect(c.currencies(), 200, "currencies")
    check(any(x["id"] == usd and x["isAutoConvert"] is True for x in body["currencies"]), "USD converted", c.currencies())
    body = expect(c.couriers_create({"firstName": "Kirill", "phone": {"number": "+79990001122"}}), 201, "couriers_create")
    courier = body["id"]
    expect(c.couriers_edit({"id": courier, "firstName": "Kirill", "lastName": "Bystrov"}), 200, "couriers_edit")
    body = expect(c.couriers(), 200, "couriers")
    equal([x["lastName"] for x in body["couriers"] if x["id"] == courier], ["Bystrov"], "courier last name")
    expect(c.units_edit({"code": "pack", "name": "Упаковка", "sym": "уп."}), 201, "units_edit")
    equal(expect(c.units(), 200, "units")["units"]["pack"]["sym"], "уп.", "unit pack")
    expect(c.cost_groups_edit({"code": "rent", "name": "Аренда", "color": "#aaaaaa"}), 201, "cost_groups_edit")
    check(any(g["code"] == "rent" for g in expect(c.cost_groups(), 200, "cost_groups")["costGroups"]), "cost group rent")
    expect(c.cost_items_edit({"code": "office-rent", "name": "Аренда офиса", "group": "rent", "type": "const"}),
           201, "cost_items_edit")
    check(any(i["code"] == "office-rent" for i in expect(c.cost_items(), 200, "cost_items")["costItems"]),
          "cost item office-rent")
    expect(c.legal_entities_edit({"code": "torg", "legalName": "ООО Торг", "contragentType": "legal-entity",
                                  "countryIso": "RU", "INN": "7701234567"}), 201, "legal_entities_edit")
    equal([e["code"] for e in expect(c.legal_entities(), 200, "legal_entities")["legalEntities"]], ["torg"],
          "legal entities")
    expect(c.delivery_services_edit({"code": "boxberry", "name": "Boxberry"}), 201, "delivery_services_edit")
    check("boxberry" in expect(c.delivery_services(), 200, "delivery_services")["deliveryServices"], "boxberry")
    expect(c.subscriptions_edit("email", "promo", {"name": "Акции"}), 201, "subscriptions_edit")
    body = expect(c.subscriptions(), 200, "subscriptions")
    check(any(s["channel"] == "email" and s["code"] == "promo" for s in body["subscriptions"]), "subscription promo")
    check(isinstance(expect(c.mg_channels(), 200, "mg_channels")["mgChannels"], list), "mgChannels is a list")

    step("products_batch_create / inventories_upload (stock for packs)")
    r = c.product_groups_create({"name": "Фильтры", "externalId": "grp-filters", "site": "default", "active": True})
    group = expect(r, 201, "product_groups_create")["id"]
    r = c.products_batch_create([{"externalId": "def-p1", "name": "Фильтр масляный", "groups": [{"id": group}],
                                  "offers": [{"externalId": "def-o1", "name": "Фильтр", "price": 450}]}])
    expect(r, 200, "products_batch_create")
    expect(c.inventories_upload([{"externalId": "def-o1", "stores": [{"code": "main", "available": 10}]}]), 200,
           "inventories_upload")

    step("product_groups / product_groups_edit")
    body = expect(c.product_groups({"sites": ["default"]}), 200, "product_groups")
    check(any(g["id"] == group for g in body["productGroup"]), "the group is listed", c.product_groups())
    expect(c.product_groups_edit("grp-filters", {"name": "Фильтры масляные"}, site="default"), 200,
           "product_groups_edit by externalId")
    body = expect(c.product_groups({"ids": [group]}), 200, "product_groups by id")
    equal(body["productGroup"][0]["name"], "Фильтры масляные", "group name after edit")
    expect(c.products_properties(), 200, "products_properties")
    expect(c.products_properties_values(), 200, "products_properties_values")

    step("pack_create / pack / pack_edit / packs / packs_history / pack_delete")
    r = c.order_create({"externalId": "def-pk", "firstName": "Packer", "shipmentStore": "main",
                        "items": [{"offer": {"externalId": "def-o1"}, "quantity": 3}]})
    item = expect(r, 201, "order for packs")["order"]["items"][0]["id"]
    r = c.pack_create({"itemId": item, "store": "main", "quantity": 2, "invoiceNumber": "INV-1",
                       "shipmentDate": "2026-12-01"})
    pack = expect(r, 201, "pack_create")["id"]
    body = expect(c.pack(pack), 200, "pack")
    equal((body["pack"]["quantity"], body["pack"]["store"]), (2, "main"), "pack quantity and store")
    expect(c.pack_edit({"id": pack, "quantity": 3}), 200, "pack_edit")
    r = c.pack_create({"itemId": item, "store": "main", "quantity": 1})
    body = expect_error(r, 400, "Errors in the entity format", "a pack beyond the line")
    check("pack.quantity" in body.get("errors", {}), "the error names pack.quantity", r)
    body = expect(c.packs({"orderExternalId": "def-pk"}), 200, "packs")
    equal([p["id"] for p in body["packs"]], [pack], "packs of the order")
    body = expect(c.packs_history({"orderExternalId": "def-pk"}), 200, "packs_history")
    check(len(body["history"]) >= 2 and body["history"][0].get("created") is True, "created, then changed", r)
    expect(c.pack_delete(pack), 200, "pack_delete")
    expect_error(c.pack(pack), 404, "Not found", "a deleted pack")

    step("orders_combine")
    keep = expect(c.order_create({"externalId": "def-keep", "firstName": "Keep",
                                  "items": [{"offer": {"externalId": "def-o1"}, "quantity": 1}]}), 201, "order")["id"]
    gone = expect(c.order_create({"externalId": "def-gone", "firstName": "Gone",
                                  "items": [{"offer": {"externalId": "def-o1"}, "quantity": 2}]}), 201, "order")["id"]
    expect(c.orders_combine({"id": gone}, {"id": keep}, "summ"), 200, "orders_combine")
    body = expect(c.order(keep, "id"), 200, "the surviving order")
    equal([i["quantity"] for i in body["order"]["items"]], [3], "summ adds the quantities")
    body = expect_error(c.order(gone, "id"), 404, "Not found", "the combined order")
    equal(body.get("combinedTo", {}).get("id"), keep, "combinedTo names the survivor")
    expect_error(c.orders_combine({"id": keep}, {"id": keep}), 400, "Errors in the entity format", "itself")

    step("order_links_create")
    r = c.order_links_create({"comment": "одна поставка", "orders": [{"id": keep}, {"externalId": "def-1"}]},
                             site="default")
    expect(r, 201, "order_links_create")
    body = expect(c.order(keep, "id"), 200, "a linked order")
    equal(body["order"]["links"][0]["comment"], "одна поставка", "link comment")

    step("customers_combine / customer_subscription")
    one = expect(c.customer_create({"externalId": "def-c2", "firstName": "Dup"}), 201, "customer")["id"]
    main_id = expect(c.customer("def-c1"), 200, "customer")["customer"]["id"]
    expect(c.customers_combine([{"id": one}], {"id": main_id}), 200, "customers_combine")
    expect_error(c.customer("def-c2"), 404, "Not found", "the combined customer")
    r = c.customer_subscription("def-c1", [{"channel": "email", "subscription": "promo", "active": True}])
    expect(r, 200, "customer_subscription")
    body = expect(c.customer("def-c1"), 200, "customer")
    equal(body["customer"]["customerSubscriptions"][0]["subscription"]["code"], "promo", "the subscription")

    step("customer_interaction_cart_set / _cart / _cart_clear")
    cart = {"externalId": "def-cart", "droppedAt": "2026-01-05 10:00:00+03:00", "customer": {"externalId": "def-c1"},
            "items": [{"quantity": 2, "price": 450, "offer": {"externalId": "def-o1"}}]}
    expect(c.customer_interaction_cart_set("default", cart), 200, "cart_set")
    body = expect(c.customer_interaction_cart("default", "def-c1"), 200, "cart")
    equal(body["cart"]["items"][0]["offer"]["externalId"], "def-o1", "cart line offer")
    equal(body["cart"]["droppedAt"], "2026-01-05 10:00:00+03:00", "cart droppedAt")
    expect(c.customer_interaction_cart_clear("default", {"customer": {"externalId": "def-c1"}}), 200, "cart_clear")
    equal(expect(c.customer_interaction_cart("default", "def-c1"), 200, "cart")["cart"]["items"], [], "cleared")
    expect_error(c.customer_interaction_cart("default", "nobody"), 404, "Not found", "no such customer")

    step("customer_interaction_favorites / _add / _remove")
    expect(c.customer_interaction_favorites_add("default", "def-c1", {"offer": {"externalId": "def-o1"}}), 200,
           "favorites_add")
    body = expect(c.customer_interaction_favorites("default", "def-c1"), 200, "favorites")
    equal([f["offer"]["externalId"] for f in body["favorites"]], ["def-o1"], "favourites")
    expect(c.customer_interaction_favorite_remove("default", "def-c1", {"offer": {"externalId": "def-o1"}}), 200,
           "favorite_remove")
    equal(expect(c.customer_interaction_favorites("default", "def-c1"), 200, "favorites")["favorites"], [],
          "no favourites left")

    step("web_analytics_client_ids_upload / _sources_upload / _visits_upload")
    expect(c.web_analytics_client_ids_upload([{"value": "GA1.1.1", "order": {"id": keep}}]), 201, "client ids")
    expect(c.web_analytics_sources_upload([{"source": "google", "medium": "organic", "order": {"id": keep}}]), 201,
           "sources")
    body = expect(c.order(keep, "id"), 200, "the order with its source")
    equal((body["order"]["clientId"], body["order"]["source"]["source"]), ("GA1.1.1", "google"), "client id and source")
    body = expect(c.web_analytics_visits_upload([{"createdAt": "2026-01-05 10:00:00", "clientId": "GA1.1.1",
                                                   "pageViews": 3}]), 201, "visits")
    check("failed_visits" not in body, "every visit stored", c.web_analytics_visits_upload([]))

    step("notifications_send")
    expect(c.notifications_send({"type": "api.info", "message": "Привет", "userIds": [manager]}), 200, "notification")
    expect_error(c.notifications_send({"type": "api.info", "message": "x", "userIds": [987654]}), 400,
                 "Errors in the entity format", "an unknown user")

    step("settings / statistic_update")
    body = expect(c.settings(), 200, "settings")
    equal(body["settings"]["default_currency"]["value"], "RUB", "default currency")
    expect(c.statistic_update(), 200, "statistic_update")

    print("scenario ok", flush=True)


if __name__ == "__main__":
    main()
