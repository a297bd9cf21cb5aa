#!/usr/bin/env python3
"""Drives torg's CRM delivery integration and files with the official RetailCRM Python client
(`retailcrm==5.3.0`, unmodified).

Usage: python crm_delivery_files_scenario.py BASE_URL API_KEY

- API_KEY: a key with every scope on every site.

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, step, check_datetime  # noqa: F401


def ids_of(body, key):
    return [x["id"] for x in body[key]]


def main():
    base, key = sys.argv[1], sys.argv[2]
    c = retailcrm.v5(base, key)

    step("a delivery integration and orders it carries")
    module = {"code": "py-post", "integrationCode": "py-post", "name": "Py Post", "baseUrl": "https://post.example/",
              "integrations": {"delivery": {"statusList": [{"code": "delivering", "name": "В пути"}]}}}
    body = expect(c.integration_module_edit(module), 201, "integration_module_edit")
    equal(body["info"]["deliveryType"]["code"], "py-post", "the module's delivery type")
    r = c.order_create({"externalId": "dl-1", "firstName": "Ann", "delivery": {"code": "py-post"}}, "default")
    number = expect(r, 201, "order_create")["order"]["number"]
    expect(c.order_create({"externalId": "dl-2", "firstName": "Bob", "delivery": {"code": "courier"}}, "default"),
           201, "order_create (courier)")
    expect(c.order_create({"externalId": "dl-3", "firstName": "Eve", "delivery": {"code": "courier"}}, "default"),
           201, "order_create (courier 2)")

    step("delivery_calculate")
    body = expect(c.delivery_calculate(["courier", "py-post", "nope"], {"weight": 500}), 200, "delivery_calculate")
    calc = body["calculations"]
    equal([x["code"] for x in calc], ["courier", "py-post", "nope"], "calculation codes")
    equal((calc[0]["available"], calc[0]["cost"]), (True, 300), "courier's cost")
    equal(calc[2]["available"], False, "an unknown type is not available")

    step("delivery_tracking")
    update = [{"deliveryId": number, "trackNumber": "PY123",
               "history": [{"code": "delivering", "updatedAt": "2030-01-02T10:00:00+03:00", "comment": "on its way"}]}]
    expect(c.delivery_tracking("py-post", update), 200, "delivery_tracking")
    order = expect(c.order("dl-1", site="default"), 200, "order")["order"]
    equal(order["delivery"]["data"]["status"], "delivering", "delivery status")
    equal(order["delivery"]["data"]["trackNumber"], "PY123", "tracking number")
    body = expect_error(c.delivery_tracking("py-post", [{"deliveryId": "no-such-order", "trackNumber": "X"}]), 400,
                        "Errors in the entity format", "tracking an unknown order")
    check("statusUpdate[0].deliveryId" in body["errors"], "the error names the update", None)
    expect_error(c.delivery_tracking("no-such-module", update), 404, "Not found", "an unknown integration")

    step("orders by delivery state")
    def states(*wanted):
        body = expect(c.orders({"deliveryStates": list(wanted), "externalIds": ["dl-1", "dl-2", "dl-3"]}), 200,
                      "orders by deliveryStates")
        return sorted(o["externalId"] for o in body["orders"])
    equal(states("success"), ["dl-1"], "a service that reported a status: success")
    equal(states("none"), ["dl-2", "dl-3"], "no integration: none")
    equal(states("processing", "error"), [], "nobody is processing or refused")

    step("orders_delivery_cancel")
    expect(c.orders_delivery_cancel("dl-1"), 200, "orders_delivery_cancel")
    equal(states("cancel"), ["dl-1"], "a cancelled delivery: cancel")
    order = expect(c.order("dl-1", site="default"), 200, "order")["order"]
    equal(order["delivery"]["data"]["status"], "cancelled", "cancelled delivery")
    expect_error(c.orders_delivery_cancel("dl-1"), 400, "Errors in the entity format", "cancelling twice")
    expect(c.orders_delivery_cancel(order["id"], "id", "true"), 200, "orders_delivery_cancel (forced, by id)")
    expect_error(c.orders_delivery_cancel("no-such-order"), 404, "Not found", "cancelling an unknown order")

    step("delivery_shipment_create / delivery_shipment")
    r = c.delivery_shipment_create({"deliveryType": "courier", "date": "2030-04-01", "comment": "ramp 1",
                                    "time": {"from": "10:00", "to": "12:00"}, "orders": [{"externalId": "dl-2"}]},
                                   "default")
    body = expect(r, 201, "delivery_shipment_create")
    first = body["id"]
    equal(body["status"], "created", "a new shipment's status")
    r = c.delivery_shipment_create({"deliveryType": "courier", "date": "2030-04-03",
                                    "orders": [{"externalId": "dl-3"}]}, site="default")
    second = expect(r, 201, "delivery_shipment_create (2)")["id"]
    sh = expect(c.delivery_shipment(first), 200, "delivery_shipment")["deliveryShipment"]
    equal((sh["deliveryType"], sh["date"], sh["comment"]), ("courier", "2030-04-01", "ramp 1"), "shipment")
    equal([o["externalId"] for o in sh["orders"]], ["dl-2"], "shipment orders")
    body = expect_error(c.delivery_shipment_create({"deliveryType": "courier"}), 400, "Errors in the entity format",
                        "a shipment without a date")
    check("deliveryShipment.date" in body["errors"], "the error names the date", None)
    expect_error(c.delivery_shipment(999999), 404, "Not found", "an unknown shipment")

    step("delivery_shipment_edit")
    r = c.delivery_shipment_edit({"id": first, "status": "processing",
                                  "orders": [{"externalId": "dl-2"}, {"externalId": "dl-3"}]}, "default")
    body = expect(r, 200, "delivery_shipment_edit")
    equal((body["id"], body["status"]), (first, "processing"), "edit answer")
    sh = expect(c.delivery_shipment(first), 200, "delivery_shipment")["deliveryShipment"]
    equal(sorted(o["externalId"] for o in sh["orders"]), ["dl-2", "dl-3"], "orders after the edit")
    body = expect_error(c.delivery_shipment_edit({"id": first, "orders": [{"externalId": "dl-1"}]}, "default"), 400,
                        "Errors in the entity format", "an order of another delivery type")
    check("deliveryShipment.orders[0]" in body["errors"], "the error names the order", None)

    step("delivery_shipments")
    body = expect(c.delivery_shipments(), 200, "delivery_shipments")
    equal(ids_of(body, "deliveryShipments"), [second, first], "all shipments, newest first")
    body = expect(c.delivery_shipments({"statuses": ["processing"]}), 200, "delivery_shipments (status)")
    equal(ids_of(body, "deliveryShipments"), [first], "by status")
    body = expect(c.delivery_shipments({"dateFrom": "2030-04-02"}), 200, "delivery_shipments (date)")
    equal(ids_of(body, "deliveryShipments"), [second], "by date")
    body = expect(c.delivery_shipments({"ids": [second]}, limit=50), 200, "delivery_shipments (ids)")
    equal(ids_of(body, "deliveryShipments"), [second], "by id")
    expect_error(c.delivery_shipments(limit=7), 400, "Errors in the input parameters", "a bad limit")

    step("files_upload / file")
    r = c.files_upload({"filename": "data.json", "content": '{"k": [1, 2]}',
                        "attachment": [{"order": {"externalId": "dl-1"}}]}, "default")
    body = expect(r, 200, "files_upload")
    f = body["file"]
    fid = f["id"]
    equal((f["filename"], f["type"], f["size"]), ("data.json", "application/json", 13), "the uploaded file")
    check_datetime(f["createdAt"], "file.createdAt")
    equal(f["attachment"][0]["order"]["externalId"], "dl-1", "attached to the order")
    r = c.files_upload("plain text content")
    other = expect(r, 200, "files_upload (text)")["file"]["id"]
    body = expect(c.file(fid), 200, "file")
    equal(body["file"]["filename"], "data.json", "file")
    expect_error(c.file(999999), 404, "Not found", "an unknown file")

    step("files_download")
    r = c.files_download(fid)
    equal(r.get_status_code(), 200, "download status")
    equal(r.get_response(), {"k": [1, 2]}, "the downloaded bytes (a JSON file, which the client parses)")

    step("files")
    body = expect(c.files(), 200, "files")
    equal(ids_of(body, "files"), [other, fid], "all files")
    body = expect(c.files({"orderExternalIds": ["dl-1"]}), 200, "files (order)")
    equal(ids_of(body, "files"), [fid], "by order")
    body = expect(c.files({"isAttached": 0}), 200, "files (unattached)")
    equal(ids_of(body, "files"), [other], "unattached")
    body = expect(c.files({"filename": "DATA"}), 200, "files (name)")
    equal(ids_of(body, "files"), [fid], "by name")

    step("files_edit")
    r = c.files_edit({"id": other, "filename": "readme.txt"})
    body = expect(r, 200, "files_edit")
    equal(body["file"]["filename"], "readme.txt", "renamed")
    body = expect_error(c.files_edit({"id": other, "filename": ""}), 400, "Errors in the entity format",
                        "a blank name")
    check("file.filename" in body["errors"], "the error names the filename", None)
    expect_error(c.files_edit({"id": 999999, "filename": "x"}), 404, "Not found", "editing an unknown file")

    step("files_delete")
    expect(c.files_delete(other), 200, "files_delete")
    expect_error(c.file(other), 404, "Not found", "a deleted file")
    expect_error(c.files_delete(other), 404, "Not found", "deleting twice")

    print("scenario ok")


if __name__ == "__main__":
    main()
