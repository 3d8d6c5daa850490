-- wrk script for ops/bench/events.sh: every request is a new registration.
--
--   wrk -t1 -c2 -d5s -s ops/bench/events_register.lua URL -- TOKENS EVENTS TENANT
--
-- TOKENS has one talent's API token a line (N lines), EVENTS one event id a line (E
-- lines). Request k posts {"attendance":"onsite"} to
-- /api/v1/tenants/TENANT/events/{event k div N}/registrations with the token of talent
-- k mod N, so each request is a (person, event) pair not seen before until the N × E
-- pairs run out; after that the pairs come round again, the API answers 200 (already
-- registered), and done() says how many requests were such repeats.
--
-- Run it with -t1: the request counter lives in the one thread's Lua state (with more
-- threads each would start at pair 0 and repeat the others' pairs).
--
-- done() prints, for events.sh to read:
--   statuses 201=…  200=… (every status seen, with its count)
--   registered confirmed=… waitlisted=… (from the 201 bodies)
--   pairs sent=… available=… repeats=…

local tokens, events = {}, {}
local path_prefix
local body = '{"attendance":"onsite"}'

-- Globals, so that done() can read them from the thread (thread:get).
total = 0
sent = 0
statuses = {}
confirmed = 0
waitlisted = 0

local function lines(file)
  local out = {}
  for line in io.lines(file) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

function init(args)
  tokens = lines(args[1])
  events = lines(args[2])
  path_prefix = "/api/v1/tenants/" .. (args[3] or "iwate") .. "/events/"
  total = #tokens * #events
  if total == 0 then error("events_register.lua: no tokens or no events") end
end

function request()
  local i = sent % total
  sent = sent + 1
  local n = #tokens
  return wrk.format("POST", path_prefix .. events[math.floor(i / n) + 1] .. "/registrations", {
    ["Authorization"] = "Bearer " .. tokens[i % n + 1],
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, text)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    if text:find('"confirmed"', 1, true) then
      confirmed = confirmed + 1
    elseif text:find('"waitlisted"', 1, true) then
      waitlisted = waitlisted + 1
    end
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local all, c, w, s, available = {}, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses")) do
      all[status] = (all[status] or 0) + count
    end
    c = c + t:get("confirmed")
    w = w + t:get("waitlisted")
    s = s + t:get("sent")
    available = t:get("total")
  end
  local keys = {}
  for status in pairs(all) do keys[#keys + 1] = status end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do parts[#parts + 1] = status .. "=" .. all[status] end
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("registered confirmed=%d waitlisted=%d\n", c, w))
  io.write(string.format("pairs sent=%d available=%d repeats=%d\n", s, available,
    math.max(0, s - available)))
end
