#!/usr/bin/env python3
"""Drives torg's CRM tasks and costs with the official RetailCRM Python client (`retailcrm==5.3.0`,
unmodified).

Usage: python crm_tasks_costs_scenario.py BASE_URL API_KEY PERFORMER_ID OTHER_USER_ID COMMENTED_TASK_ID

- API_KEY: a key with every scope on every site.
- PERFORMER_ID, OTHER_USER_ID: two users.
- COMMENTED_TASK_ID: a task (for PERFORMER_ID, about nothing) with two comments, "first" then "second",
  written by PERFORMER_ID (the API has no method that writes comments).

Prints `scenario ok` when every check held; stops at the first failure (exit status 1) naming the step.
"""

import sys

import retailcrm

from crm_scenario import check, equal, expect, expect_error, step, check_datetime  # noqa: F401


def ids_of(body, key):
    return [x["id"] for x in body[key]]


def main():
    base, key = sys.argv[1], sys.argv[2]
    performer, other, commented = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    c = retailcrm.v5(base, key)

    step("an order and a customer to be about")
    r = c.order_create({"externalId": "tc-o1", "firstName": "Семён", "email": "semyon@example.com"}, "default")
    created = expect(r, 201, "order_create")["order"]
    number, buyer = created["number"], created["customer"]["id"]
    expect(c.customer_create({"externalId": "tc-c1", "firstName": "Зоя"}, "default"), 201, "customer_create")

    step("task_create / task")
    r = c.task_create({"text": "Позвонить клиенту", "commentary": "про доставку", "performerId": performer,
                       "datetime": "2030-05-01 10:30", "order": {"externalId": "tc-o1"}}, "default")
    about_order = expect(r, 201, "task_create (order)")["id"]
    r = c.task_create({"text": "Send the invoice", "performerId": other, "customer": {"externalId": "tc-c1"},
                       "datetime": "2030-06-01 09:00"}, site="default")
    about_customer = expect(r, 201, "task_create (customer)")["id"]
    body = expect(c.task(about_order), 200, "task")
    t = body["task"]
    equal(t["id"], about_order, "task.id")
    equal(t["text"], "Позвонить клиенту", "task.text")
    equal(t["datetime"], "2030-05-01 10:30", "task.datetime")
    equal((t["performer"], t["performerType"], t["complete"]), (performer, "user", False), "task performer")
    equal((t["order"]["externalId"], t["order"]["number"], t["order"]["site"]), ("tc-o1", number, "default"),
          "task.order")
    check_datetime(t["createdAt"], "task.createdAt")
    body = expect(c.task(about_customer), 200, "task")
    equal((body["task"]["customer"]["type"], body["task"]["customer"]["externalId"]), ("customer", "tc-c1"),
          "task.customer")
    r = c.task_create({"text": "Nobody does this"})
    body = expect_error(r, 400, "Errors in the entity format", "a task without a performer")
    check("task.performerId" in body.get("errors", {}), "the error names task.performerId", r)
    expect_error(c.task(999999), 404, "Not found", "an unknown task")

    step("task_edit")
    expect(c.task_edit({"id": about_order, "text": "Позвонить клиенту ещё раз", "complete": True}), 200, "task_edit")
    t = expect(c.task(about_order), 200, "task")["task"]
    equal((t["text"], t["complete"], t["commentary"]), ("Позвонить клиенту ещё раз", True, "про доставку"),
          "the edited task")
    check_datetime(t["completedAt"], "task.completedAt")
    r = c.task_edit({"id": about_order, "performerId": 999999})
    body = expect_error(r, 400, "Errors in the entity format", "an unknown performer")
    check("task.performerId" in body.get("errors", {}), "the error names task.performerId", r)
    expect_error(c.task_edit({"id": 999999, "text": "x"}), 404, "Not found", "edit of an unknown task")

    step("tasks")
    body = expect(c.tasks(), 200, "tasks")
    equal(ids_of(body, "tasks"), [about_customer, about_order, commented], "tasks, newest first")
    equal(body["pagination"]["totalCount"], 3, "tasks: totalCount")
    equal(ids_of(expect(c.tasks({"status": "completed"}), 200, "completed"), "tasks"), [about_order], "completed")
    equal(ids_of(expect(c.tasks({"status": "performing"}), 200, "performing"), "tasks"), [about_customer, commented],
          "performing")
    equal(ids_of(expect(c.tasks({"performers": [other]}), 200, "by performer"), "tasks"), [about_customer],
          "by performer")
    equal(ids_of(expect(c.tasks({"orderNumber": number}), 200, "by order"), "tasks"), [about_order], "by order")
    equal(ids_of(expect(c.tasks({"customer": "зоя"}), 200, "by customer"), "tasks"), [about_customer], "by customer")
    equal(ids_of(expect(c.tasks({"text": "ЕЩЁ"}), 200, "by text"), "tasks"), [about_order], "by text")
    body = expect(c.tasks({"dateFrom": "2030-05-02", "dateTo": "2030-06-30"}), 200, "by due date")
    equal(ids_of(body, "tasks"), [about_customer], "by due date")
    body = expect(c.tasks({"ids": [about_order, about_customer]}, limit=20, page=2), 200, "page 2")
    equal((body["tasks"], body["pagination"]["currentPage"]), ([], 2), "page 2")
    expect_error(c.tasks({"status": "done"}), 400, "Errors in the input parameters", "an unknown status")

    step("tasks_history")
    body = expect(c.tasks_history(), 200, "tasks_history")
    check(isinstance(body.get("generatedAt"), str), "generatedAt", c.tasks_history())
    history = body["history"]
    first = [h for h in history if h["task"]["id"] == about_order][0]
    equal((first["created"], first["field"], first["newValue"], first["source"]), (True, "id", about_order, "api"),
          "the first record of a task")
    equal(first["apiKey"], {"current": True}, "apiKey.current")
    check_datetime(first["createdAt"], "history createdAt")
    ids = [h["id"] for h in history]
    check(ids == sorted(ids), "history ids ascend", c.tasks_history())
    fields = [h["field"] for h in history if h["task"]["id"] == about_order]
    equal(fields, ["id", "text", "complete"], "records of the edited task")
    comments = [h for h in history if h["field"] == "comment"]
    equal([h["comment"]["text"] for h in comments], ["first", "second"], "comment records")
    equal(comments[0]["user"], {"id": performer}, "a comment's author")
    body = expect(c.tasks_history({"sinceId": ids[-2]}), 200, "tasks_history sinceId")
    equal([h["id"] for h in body["history"]], ids[-1:], "records after sinceId")
    body = expect(c.tasks_history({"taskId": about_customer}, limit=50), 200, "tasks_history taskId")
    equal([h["task"]["id"] for h in body["history"]], [about_customer], "records of one task")

    step("tasks_comments")
    body = expect(c.tasks_comments(commented), 200, "tasks_comments")
    equal([x["text"] for x in body["comments"]], ["second", "first"], "comments, newest first")
    equal(body["comments"][0]["creator"], performer, "comment creator")
    check_datetime(body["comments"][0]["createdAt"], "comment createdAt")
    equal(body["pagination"]["totalCount"], 2, "comments: totalCount")
    equal(expect(c.tasks_comments(about_order, limit=50, page=1), 200, "no comments")["comments"], [], "no comments")
    expect_error(c.tasks_comments(999999), 404, "Not found", "comments of an unknown task")

    step("cost_create / cost")
    expect(c.cost_items_edit({"code": "salary", "name": "Зарплата", "group": "commission", "appliesToUsers": True}),
           201, "cost_items_edit")
    r = c.cost_create({"dateFrom": "2030-03-01", "dateTo": "2030-03-01", "summ": 350.5, "costItem": "delivery-cost",
                       "order": {"externalId": "tc-o1"}, "comment": "Курьер",
                       "source": {"source": "yandex", "medium": "cpc"}}, "default")
    delivery = expect(r, 201, "cost_create (order)")["id"]
    r = c.cost_create({"dateFrom": "2030-03-01", "dateTo": "2030-03-31", "summ": 60000, "costItem": "salary",
                       "userId": performer, "sites": ["default"]})
    salary = expect(r, 201, "cost_create (user)")["id"]
    body = expect(c.cost(delivery), 200, "cost")
    cost = body["cost"]
    equal((cost["id"], cost["summ"], cost["costItem"], cost["dateFrom"], cost["dateTo"]),
          (delivery, 350.5, "delivery-cost", "2030-03-01", "2030-03-01"), "the cost")
    equal((cost["order"]["externalId"], cost["order"]["number"], cost["sites"]), ("tc-o1", number, ["default"]),
          "the cost's order and sites")
    equal(cost["source"], {"source": "yandex", "medium": "cpc"}, "the cost's source")
    check_datetime(cost["createdAt"], "cost.createdAt")
    r = c.cost_create({"dateFrom": "2030-03-01", "dateTo": "2030-03-01", "summ": 1, "costItem": "nope"})
    body = expect_error(r, 400, "Errors in the entity format", "an unknown cost item")
    check("cost.costItem" in body.get("errors", {}), "the error names cost.costItem", r)
    expect_error(c.cost(999999), 404, "Not found", "an unknown cost")

    step("cost_edit")
    body = expect(c.cost_edit({"id": delivery, "summ": 400, "comment": "Курьер, два раза"}), 200, "cost_edit")
    equal(body["id"], delivery, "cost_edit answers the id")
    cost = expect(c.cost(delivery), 200, "cost")["cost"]
    equal((cost["summ"], cost["comment"], cost["dateFrom"]), (400, "Курьер, два раза", "2030-03-01"), "edited cost")
    r = c.cost_edit({"id": delivery, "dateTo": "2030-02-01"})
    body = expect_error(r, 400, "Errors in the entity format", "a period ending before it starts")
    check("cost.dateTo" in body.get("errors", {}), "the error names cost.dateTo", r)

    step("costs")
    body = expect(c.costs(), 200, "costs")
    equal(ids_of(body, "costs"), [salary, delivery], "costs, newest first")
    equal(ids_of(expect(c.costs({"costItems": ["salary"]}), 200, "by item"), "costs"), [salary], "by item")
    equal(ids_of(expect(c.costs({"costGroups": ["delivery"]}), 200, "by group"), "costs"), [delivery], "by group")
    equal(ids_of(expect(c.costs({"minSumm": 1000}), 200, "by sum"), "costs"), [salary], "by sum")
    equal(ids_of(expect(c.costs({"orderExternalIds": ["tc-o1"]}), 200, "by order"), "costs"), [delivery], "by order")
    equal(ids_of(expect(c.costs({"users": [performer]}), 200, "by user"), "costs"), [salary], "by user")
    equal(ids_of(expect(c.costs({"dateTo": "2030-03-15"}), 200, "by dates"), "costs"), [delivery], "by dates")
    equal(ids_of(expect(c.costs({"sites": ["default"]}, limit=50), 200, "by site"), "costs"), [salary, delivery],
          "by site")

    step("orders and customers by their tasks and costs")
    def exts(body, key):
        return [x["externalId"] for x in body[key]]
    mine = {"externalIds": ["tc-o1"]}
    equal(exts(expect(c.orders(dict(mine, tasksCounts=1)), 200, "orders"), "orders"), ["tc-o1"],
          "an order whose task is done has none left to do")
    equal(exts(expect(c.orders(dict(mine, tasksCounts=2)), 200, "orders"), "orders"), [], "tasksCounts=2")
    equal(exts(expect(c.orders(dict(mine, minCostSumm=400)), 200, "orders"), "orders"), ["tc-o1"], "minCostSumm")
    equal(exts(expect(c.orders(dict(mine, maxCostSumm=399.99)), 200, "orders"), "orders"), [], "maxCostSumm")
    expect_error(c.orders({"tasksCounts": 0}), 400, "Errors in the input parameters", "tasksCounts=0")
    them = {"externalIds": ["tc-c1"]}
    equal(exts(expect(c.customers(dict(them, tasksCounts=2)), 200, "customers"), "customers"), ["tc-c1"],
          "a customer with a task left to do")
    equal(exts(expect(c.customers(dict(them, tasksCounts=3)), 200, "customers"), "customers"), [],
          "its task is not past its deadline")
    body = expect(c.customer(buyer, uid_type="id"), 200, "customer")
    equal(body["customer"]["costSumm"], 400, "the buyer's costSumm: the costs of its orders")

    step("costs_upload")
    upload = [{"dateFrom": "2030-04-01", "dateTo": "2030-04-01", "summ": 10, "costItem": "payment-commission"},
              {"dateFrom": "2030-04-02", "dateTo": "2030-04-02", "summ": 20.25, "costItem": "payment-commission"}]
    body = expect(c.costs_upload(upload), 200, "costs_upload")
    uploaded = body["uploadedCosts"]
    equal(len(uploaded), 2, "uploaded costs")
    equal(expect(c.cost(uploaded[1]), 200, "an uploaded cost")["cost"]["summ"], 20.25, "uploaded summ")
    r = c.costs_upload([upload[0], {"dateFrom": "2030-04-03", "summ": 1, "costItem": "payment-commission"}])
    body = expect_error(r, 460, "Costs are loaded with errors", "costs_upload with a bad cost")
    equal(len(body["uploadedCosts"]), 1, "the good cost went in")
    check(any(e.startswith("costs[1].dateTo") for e in body["errors"]), "the error names costs[1].dateTo", r)

    step("cost_delete / costs_delete")
    expect(c.cost_delete(delivery), 200, "cost_delete")
    expect_error(c.cost(delivery), 404, "Not found", "a deleted cost")
    expect_error(c.cost_delete(delivery), 404, "Not found", "a cost deleted twice")
    body = expect(c.costs_delete([salary] + uploaded + [delivery]), 200, "costs_delete")
    equal((body["count"], body["notRemovedIds"]), (3, [delivery]), "costs_delete")
    left = expect(c.costs(), 200, "costs")["costs"]
    equal(len(left), 1, "one cost left (from the partial upload)")

    print("scenario ok", flush=True)


if __name__ == "__main__":
    main()
