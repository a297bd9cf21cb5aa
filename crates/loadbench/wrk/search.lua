-- wrk script for the parts search: each request looks up a random part number of the generated
-- catalogue (the formula of loadbench's `search::article`, with the dash sometimes dropped or lowered,
-- as buyers type it). Arguments: the parts key and the number of offers in the catalogue.
local key, offers
function init(args)
  key = args[1]
  offers = tonumber(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local i = math.random(0, offers - 1)
  local forms = { "TB-%07d", "TB%07d", "tb-%07d" }
  local number = string.format(forms[math.random(1, 3)], i)
  return wrk.format("GET", "/v1/search/?api_key=" .. key .. "&q=" .. number)
end
