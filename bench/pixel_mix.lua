-- wrk script for bench/pixel.py: a mix of new visitors and returning cookies adding 1-3 segments.
-- Settings come from the environment: SEGMENTS (comma-separated ids), NEW_SHARE (0..1),
-- USERS (size of the returning-user pool), DELAY_MS (mean pause per request: a throttled phase).
local segments = {}
for id in string.gmatch(os.getenv("SEGMENTS") or "1", "[^,]+") do
  table.insert(segments, id)
end
local new_share = tonumber(os.getenv("NEW_SHARE") or "0.3")
local users = tonumber(os.getenv("USERS") or "100000")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local counter = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  counter = counter + 1
  local n = math.random(1, 3)
  local picked = {}
  for i = 1, n do
    picked[i] = segments[math.random(1, #segments)]
  end
  local path = "/seg?add=" .. table.concat(picked, ",") .. "&t=2"
  local headers = {}
  if math.random() >= new_share then
    -- returning visitors: ids in a fixed pool, so profiles grow and get re-added
    headers["Cookie"] = "uuid2=" .. tostring(1000000000 + math.random(1, users))
  end
  return wrk.format("GET", path, headers)
end

-- A random pause of mean DELAY_MS (exponential, as between independent visitors' page views):
-- equal pauses would keep the connections in step and measure their bursts instead of the load.
function delay()
  if delay_ms <= 0 then
    return 0
  end
  return math.floor(-delay_ms * math.log(1 - math.random()) + 0.5)
end
