-- wrk script for bench/adcall.py. MODE=ttj: ad calls on one placement with a car= key-value
-- (returning cookies from a pool, NEW_SHARE of them new visitors); MODE=segments: bidder reads
-- of /user/segments for users of the same pool, with the API token in Authorization.
-- Settings from the environment: MODE, PLACEMENT, MEMBER, TOKEN, USERS, NEW_SHARE, DELAY_MS.
local mode = os.getenv("MODE") or "ttj"
local placement = os.getenv("PLACEMENT") or "1"
local member = os.getenv("MEMBER") or "1"
local token = os.getenv("TOKEN") or ""
local users = tonumber(os.getenv("USERS") or "100000")
local new_share = tonumber(os.getenv("NEW_SHARE") or "0.3")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local cars = {"ford", "bmw", "audi", "fiat"}

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

local function returning_uid()
  return tostring(1000000000 + math.random(1, users))
end

function request()
  if mode == "segments" then
    local path = "/user/segments?id=" .. returning_uid() .. "&member_id=" .. member
    return wrk.format("GET", path, {["Authorization"] = token})
  end
  local path = "/ttj?id=" .. placement .. "&size=300x250&car=" .. cars[math.random(1, #cars)]
  local headers = {}
  if math.random() >= new_share then
    headers["Cookie"] = "uuid2=" .. returning_uid()
  end
  return wrk.format("GET", path, headers)
end

function delay()
  return delay_ms
end
