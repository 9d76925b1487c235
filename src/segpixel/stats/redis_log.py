"""Load counting on Redis, write side: logged in the batch's script call, folded later.

Counting each batch's loads in its own script call tripled Redis's time per batch (a HINCRBY,
three PFADDs and their EXPIREATs for every segment the batch touched: about 180 calls for 16
pixels). So the batch script only appends one entry to the list `{prefix}l:log` — one RPUSH, under
the batch's marker, so a batch replayed from the journal is logged no second time — and a fold
script pops entries until it has spent its budget (FOLD_LOADS: a load costs 1, a segment's
group GROUP_COST; an entry too big for what is left is split and its rest pushed back), a few
milliseconds of Redis time, and applies them: one HINCRBY per segment, day and source, one
PFADD per key with all its users.
Popping and applying are one script, so every entry is counted once. The profile store folds
every second; the reader folds before it reads.

Counters (stats/redis.py has the layout): `{prefix}l{<segment>}:c:YYYYMM` (hash `DD:<source>` →
loads), HyperLogLogs `…:d:YYYYMMDD`, `…:m:YYYYMM`, `…:h:YYYYMMDDHH` of base-62 user ids.

An entry is text: groups `<segment>,<epoch hour>,<YYYYMMDD>,<HH>,<source code>,<uid> <uid>…`
joined by `;` (ids in base 62, as in the profile keys). The fold builds its keys from the entries,
so it runs on a single Redis; with Cluster the client pops the logs (one a group of slots,
stats/redis_cluster.py) and applies each segment's groups in a call of its own (FOLD_SEGMENT_LUA:
a segment's keys share a slot by their `{<segment>}` tag).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from segpixel.domain.loads import DAY_SECONDS, HOUR_SECONDS, SOURCE_CODES, SOURCES, DayClock
from segpixel.domain.profile import Mutation

COUNTS_KEPT = 731 * DAY_SECONDS
DAILY_KEPT = 400 * DAY_SECONDS
MONTHLY_KEPT = 731 * DAY_SECONDS
HOURLY_KEPT = 2 * DAY_SECONDS
FOLD_LOADS = 1_000  # budget of a fold call: a load costs 1, a group (4 keys to touch) more
GROUP_COST = 10  # so a call touches at most ~100 segments' keys: a few ms of Redis, not 100s
FOLD_ROUNDS = 2_000  # fold calls before a reader stops catching up with the writers
PFADD_CHUNK = 1000  # elements per PFADD: Lua's unpack() has a limit near 8,000


def log_key(prefix: str) -> str:
    """The log's key: a ':' right after the prefix, so never a profile key (base 62 has none)."""
    return f"{prefix}l:log"


_FOLD_HEAD = (
    "local SOURCES = {" + ", ".join(f"'{s}'" for s in SOURCES) + "}\n"
    f"local COUNTS_KEPT, DAILY_KEPT = {COUNTS_KEPT}, {DAILY_KEPT}\n"
    f"local MONTHLY_KEPT, HOURLY_KEPT = {MONTHLY_KEPT}, {HOURLY_KEPT}\n"
    f"local PFADD_CHUNK, GROUP_COST = {PFADD_CHUNK}, {GROUP_COST}\n"
    + """
local counts, hlls = {}, {}  -- key → {expire, fields = {field → n}} / {expire, members}

local function hll(key, expire, members)
  local h = hlls[key]
  if h == nil then h = {expire = expire, members = {}}; hlls[key] = h end
  if expire > h.expire then h.expire = expire end
  for _, m in ipairs(members) do h.members[#h.members + 1] = m end
end

-- One group of an entry, `<segment>,<hour>,<day>,<hh>,<source>,<uid> <uid>…`: its loads.
local function fold_group(prefix, group)
  local sid, hour, day, hh, source, users =
    string.match(group, '^(%d+),(%d+),(%d+),(%d+),(%d+),(.*)$')
  hour = tonumber(hour)
  local members = {}
  for user in string.gmatch(users, '%S+') do members[#members + 1] = user end
  local base, month = prefix .. 'l{' .. sid .. '}:', string.sub(day, 1, 6)
  local day_end = (math.floor(hour / 24) + 1) * 86400
  local key, field = base .. 'c:' .. month, string.sub(day, 7, 8) .. ':' .. SOURCES[source + 1]
  local c = counts[key]
  if c == nil then c = {expire = 0, fields = {}}; counts[key] = c end
  c.fields[field] = (c.fields[field] or 0) + #members
  if day_end + COUNTS_KEPT > c.expire then c.expire = day_end + COUNTS_KEPT end
  hll(base .. 'd:' .. day, day_end + DAILY_KEPT, members)
  hll(base .. 'm:' .. month, day_end + MONTHLY_KEPT, members)
  hll(base .. 'h:' .. day .. hh, (hour + 1) * 3600 + HOURLY_KEPT, members)
  return #members
end

local function apply_folded()
  for key, c in pairs(counts) do
    local new = false
    for field, n in pairs(c.fields) do
      -- a new field is the first load of that day and source: push the key's expiry
      if redis.call('HINCRBY', key, field, n) == n then new = true end
    end
    if new then redis.call('EXPIREAT', key, c.expire) end
  end
  for key, h in pairs(hlls) do
    local changed = 0
    for i = 1, #h.members, PFADD_CHUNK do
      local last = math.min(i + PFADD_CHUNK - 1, #h.members)
      changed = changed + redis.call('PFADD', key, unpack(h.members, i, last))
    end
    if changed > 0 then
      redis.call('EXPIREAT', key, h.expire)
      -- a day's users changed: forget its month's counts as a reader kept them (stats/redis.py)
      local base, month = string.match(key, '^(.*)d:(%d%d%d%d%d%d)%d%d$')
      if base then redis.call('DEL', base .. 'u:' .. month) end
    end
  end
end
"""
)

FOLD_LUA = (
    _FOLD_HEAD
    + """
-- KEYS[1]: the log. ARGV[1]: the budget (a load 1, a group GROUP_COST); ARGV[2]: the prefix.
-- Returns how many entries the log still holds.
local budget, prefix = tonumber(ARGV[1]), ARGV[2]
while budget > 0 do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local groups = {}
  for group in string.gmatch(entry, '[^;]+') do groups[#groups + 1] = group end
  for i, group in ipairs(groups) do
    if budget <= 0 then  -- a big batch's entry: fold the rest next call, Redis stays responsive
      redis.call('LPUSH', KEYS[1], table.concat(groups, ';', i))
      break
    end
    budget = budget - fold_group(prefix, group) - GROUP_COST
  end
end
apply_folded()
return redis.call('LLEN', KEYS[1])
"""
)

# Redis Cluster (stats/redis_cluster.py): the client pops the logs and hands each segment its
# groups. KEYS[1]: a key of the segment (every key of a segment shares its `{<segment>}` slot);
# ARGV[1]: the key prefix; ARGV[2]: the segment's groups, joined by ';'.
FOLD_SEGMENT_LUA = (
    _FOLD_HEAD
    + """
for group in string.gmatch(ARGV[2], '[^;]+') do fold_group(ARGV[1], group) end
apply_folded()
return 0
"""
)


class LoadLogger:
    """A batch's loads as one log entry (on the pixel's path: a dict lookup a load, and the
    text of a segment's group header made once an hour)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._day = DayClock()
        self._headers: dict[tuple[int, int], str] = {}

    def entry(self, batch: Sequence[Mutation], user_keys: Sequence[str]) -> str:
        """The log entry of `batch`, whose users' profile keys are `user_keys` ('' if no load)."""
        cut = len(self.prefix)
        groups: dict[tuple[int, int, int], list[str]] = {}
        for m, key in zip(batch, user_keys, strict=True):
            loads = m.loads()
            if loads:
                hour, source, uid = m.at // HOUR_SECONDS, SOURCE_CODES[m.source], key[cut:]
                for sid in loads:
                    members = groups.get((sid, hour, source))
                    if members is None:
                        groups[(sid, hour, source)] = [uid]
                    else:
                        members.append(uid)
        return ";".join(
            f"{self._header(sid, hour)},{source},{' '.join(members)}"
            for (sid, hour, source), members in groups.items()
        )

    def _header(self, segment_id: int, hour: int) -> str:
        found = self._headers.get((segment_id, hour))
        if found is None:
            if len(self._headers) > 10_000:  # hours gone by
                self._headers.clear()
            day, hh = self._day(hour * HOUR_SECONDS)
            found = self._headers[(segment_id, hour)] = f"{segment_id},{hour},{day},{hh:02d}"
        return found


async def fold_all(run: Callable[[int], Awaitable[Any]], rounds: int = FOLD_ROUNDS) -> None:
    """Fold until the log is empty (or `rounds` calls: writers that outpace us wait).

    `run(n)` runs the fold script for about n loads and returns how many entries remain.
    """
    for _ in range(rounds):
        if int(await run(FOLD_LOADS)) == 0:
            return
