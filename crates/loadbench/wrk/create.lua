-- wrk script for `POST /api/v5/orders/create` (scripts/bench): every request is a distinct order from a
-- returning buyer of the seed (attached by e-mail), with three lines, delivery, a payment and custom
-- fields, sent as RetailCRM clients send it: a form body `site=…&order=<JSON>` and the key in X-API-KEY.
--
-- wrk -s create.lua URL -- KEY RUN CUSTOMERS
--   KEY: the API key; RUN: a token unique to this run (external ids stay distinct across runs);
--   CUSTOMERS: how many customers the seed made (buyer0 … buyerN-1@bench.example).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local key, run, customers
local counter = 0
local sites = { "default", "default", "default", "default", "default", "msk-shop", "msk-shop", "msk-shop",
  "spb-shop", "spb-shop" }

function init(args)
  key = args[1]
  run = args[2] or "run"
  customers = tonumber(args[3] or "5000")
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  counter = counter + 1
  -- the seed puts customer i on sites[i % 10 + 1]; pick a buyer and its site
  local c = (counter * 7919 + tid * 104729) % customers
  local site = sites[c % 10 + 1]
  local a = (counter % 60) + 1
  local b = ((counter * 7) % 60) + 1
  if b == a then b = (a % 60) + 1 end
  local d = ((counter * 13) % 60) + 1
  if d == a or d == b then d = ((math.max(a, b)) % 60) + 1 end
  if d == a or d == b then d = ((math.max(a, b) + 1) % 60) + 1 end
  local order = string.format(
    '{"externalId":"wrk-%s-%d-%d","email":"buyer%d@bench.example","status":"new",'
      .. '"orderMethod":"shopping-cart","items":[{"offer":{"externalId":"sku-%d"},"quantity":%d},'
      .. '{"offer":{"externalId":"sku-%d"},"quantity":1},{"offer":{"externalId":"sku-%d"},"quantity":2}],'
      .. '"delivery":{"code":"courier","cost":300,"address":{"city":"Москва","text":"ул. Тверская, %d"}},'
      .. '"payments":[{"type":"bank-card","status":"not-paid"}],'
      .. '"customFields":{"source":"yandex"},"customerComment":"Позвоните за час до доставки"}',
    run, tid, counter, c, a, 1 + counter % 3, b, d, counter % 200)
  local body = "site=" .. site .. "&order=" .. urlencode(order)
  return wrk.format("POST", "/api/v5/orders/create",
    { ["X-API-KEY"] = key, ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
