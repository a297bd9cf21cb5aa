-- wrk script for the parts order (scripts/bench-search): `POST /v1/order/?api_key=KEY` with a form body
-- `_=<signed row>&order_qty=1`, the rows taken in turn from a file that `loadbench parts-tokens` wrote
-- (rows with an exact stock, so every order reserves a unit and none may be oversold).
--
-- wrk -s parts-order.lua URL -- KEY FILE
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local key
local bodies = {}
local at = 0
function init(args)
  key = args[1]
  for line in io.lines(args[2]) do
    if #line > 0 then table.insert(bodies, line) end
  end
  at = (tid or 1) * 7919
end

function request()
  at = at + 1
  local body = bodies[(at % #bodies) + 1]
  return wrk.format("POST", "/v1/order/?api_key=" .. key,
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
