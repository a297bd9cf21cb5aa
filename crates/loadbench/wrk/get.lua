-- wrk script for `GET /api/v5/orders/{id}?by=id` (scripts/bench): a random order of the seed each time.
--
-- wrk -s get.lua URL -- KEY ORDERS
local key, orders
function init(args)
  key = args[1]
  orders = tonumber(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  return wrk.format("GET", "/api/v5/orders/" .. math.random(1, orders) .. "?by=id", { ["X-API-KEY"] = key })
end
