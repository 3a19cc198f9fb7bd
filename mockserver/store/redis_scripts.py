"""The Lua scripts behind ``RedisStore``: each one store operation, atomic on the Redis server.

Keys of a namespace share the prefix ``P`` = ``<prefix>ns:<name>:`` (passed in ARGV, so one script
serves every namespace): ``clock`` (hash), ``meta`` (hash: ``journal``, the number of entries before
the journal's first, ``task_order`` and ``window_entry`` counters, and ``v``, the namespace's version,
a new random token whenever its rules or clock change), ``rules`` / ``hits`` (hashes by rule id),
``journal`` (list of entry JSON, see ``APPEND_TO_JOURNAL``), ``t:<id>`` (a task's record, a hash),
``tasks`` and ``fam:<family>`` (sorted sets in creation order), ``active:<family>`` (sorted set: mock time each task stops running),
``families`` and ``followed`` (sets), ``counters`` (hash), ``played`` (set: recordings replayed) and
``replayed`` (hash: a recorded task's submit time and polls); quota: ``quota_keys`` (set of keys with
a balance), ``limits`` (list of limit JSON), ``balances``, ``used``, ``requests`` and ``gates``
(hashes by key or gate), ``w:<window>`` (sorted set of "<n>:<weight>" by mock time) and ``windows``
(set of their names). Shared by all namespaces: ``namespaces``
(sorted set by last use), ``callbacks`` (sorted set of "<namespace>\\n<task id>" by due time, ms) and
``ids`` (hash of the last id handed out per name; ``rule`` numbers every rule), ``shared:rules`` (hash by
rule id: the rules every namespace shares), ``shared:meta`` (hash: ``digest`` of those rules) and
``metrics`` (hash of the metric counters every worker adds to).

Numbers that may pass 2^53 (ids) are handled as decimal strings: Lua numbers are doubles.
"""

from __future__ import annotations

ENTER = """
-- KEYS: namespaces, shared rules; ARGV: P, name, known version, wall now ('' unless it is to be marked
-- as used). Answers the clock ({} when the namespace has none yet: see START_CLOCK), the version and,
-- when that is not the known one, the namespace's rules, the shared ones, the keys with a quota and
-- the limits.
local P = ARGV[1]
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
end
local clock = redis.call('HGETALL', P .. 'clock')
local version = redis.call('HGET', P .. 'meta', 'v') or ''
if version == ARGV[3] then
  return {clock, version}
end
return {clock, version, redis.call('HGETALL', P .. 'rules'), redis.call('HGETALL', KEYS[2]),
        redis.call('SMEMBERS', P .. 'quota_keys'), redis.call('LRANGE', P .. 'limits', 0, -1)}
"""

RECORD_UNLESS_CHANGED = """
-- KEYS: namespaces, shared rules; ARGV: P, journal size, version, name, wall now ('' unless it is to be
-- marked as used), then the entries' JSON (the calls of one batch for one namespace go as one).
-- {1, the last entry's number} when recorded (the others come just before it, in order); when the
-- namespace's version is no longer the one given, nothing is written and the answer is 0 and the
-- namespace as ENTER gives it (with the rules and quota). The version and the journal's numbering come
-- in one read: two calls in all when the namespace is unchanged, as it nearly always is.
local P = ARGV[1]
local meta = redis.call('HMGET', P .. 'meta', 'v', 'journal')
local version = meta[1] or ''
if version ~= ARGV[3] then
  return {0, redis.call('HGETALL', P .. 'clock'), version, redis.call('HGETALL', P .. 'rules'), redis.call('HGETALL', KEYS[2]),
          redis.call('SMEMBERS', P .. 'quota_keys'), redis.call('LRANGE', P .. 'limits', 0, -1)}
end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[4])
end
return {1, append_to_journal(P, meta[2], tonumber(ARGV[2]), ARGV, 6)}
"""

START_CLOCK = """
-- ARGV: P, wall now, clock mode, clock speed, new version, number of limits, then the starting limits'
-- JSON, then (key, balance) pairs. A new namespace: its clock and starting quota, unless the clock runs.
local P = ARGV[1]
local clock = P .. 'clock'
if redis.call('EXISTS', clock) == 0 then
  redis.call('HSET', clock, 'mode', ARGV[3], 'speed', ARGV[4], 'origin', ARGV[2], 'origin_wall', ARGV[2], 'offset', '0', 'manual', ARGV[2])
  redis.call('HSET', P .. 'meta', 'v', ARGV[5])
  local limits = 6 + tonumber(ARGV[6])
  for i = 7, limits do
    redis.call('RPUSH', P .. 'limits', ARGV[i])
  end
  for i = limits + 1, #ARGV, 2 do
    redis.call('SADD', P .. 'quota_keys', ARGV[i])
    redis.call('HSET', P .. 'balances', ARGV[i], ARGV[i + 1])
  end
end
return redis.call('HGETALL', clock)
"""

SET_CLOCK = """
-- ARGV: P, new version, then the clock's field / value pairs
redis.call('HSET', ARGV[1] .. 'clock', unpack(ARGV, 3))
redis.call('HSET', ARGV[1] .. 'meta', 'v', ARGV[2])
return 1
"""

ADD_RULE = """
-- KEYS: namespaces, ids; ARGV: P, name, wall now, new version, rule JSON without its id
local P = ARGV[1]
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
local id = redis.call('HINCRBY', KEYS[2], 'rule', 1)
redis.call('HSET', P .. 'rules', id, '{"id":' .. id .. ',' .. string.sub(ARGV[5], 2))
redis.call('HSET', P .. 'meta', 'v', ARGV[4])
return id
"""

REMOVE_RULE = """
-- ARGV: P, rule id, new version
local P = ARGV[1]
local removed = redis.call('HDEL', P .. 'rules', ARGV[2])
redis.call('HDEL', P .. 'hits', ARGV[2])
if removed > 0 then
  redis.call('HSET', P .. 'meta', 'v', ARGV[3])
end
return removed
"""

REPLACE_RULES = """
-- ARGV: P, new version, then (id, JSON without the id, hits) per rule. The shared rules' hits stay.
local P = ARGV[1]
for _, id in ipairs(redis.call('HKEYS', P .. 'rules')) do
  redis.call('HDEL', P .. 'hits', id)
end
redis.call('DEL', P .. 'rules')
for i = 3, #ARGV, 3 do
  redis.call('HSET', P .. 'rules', ARGV[i], '{"id":' .. ARGV[i] .. ',' .. string.sub(ARGV[i + 1], 2))
  redis.call('HSET', P .. 'hits', ARGV[i], ARGV[i + 2])
end
redis.call('HSET', P .. 'meta', 'v', ARGV[2])
return 1
"""

TAKE_RULE = """
-- KEYS: shared rules; ARGV: P, rule id, times ('' for unlimited). The use this is (1 for the first), or 0.
local P = ARGV[1]
if redis.call('HEXISTS', P .. 'rules', ARGV[2]) == 0 and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  return 0
end
if ARGV[3] ~= '' and tonumber(redis.call('HGET', P .. 'hits', ARGV[2]) or '0') >= tonumber(ARGV[3]) then
  return 0
end
return redis.call('HINCRBY', P .. 'hits', ARGV[2], 1)
"""

REPLACE_SHARED_RULES = """
-- KEYS: namespaces, shared rules, shared meta, ids; ARGV: namespaces' key prefix, digest, new version,
-- then each rule's JSON without its id. {1, the rules' ids}, or {0} when the shared rules already are
-- the ones the digest names.
if redis.call('HGET', KEYS[3], 'digest') == ARGV[2] then
  return {0}
end
local gone = redis.call('HKEYS', KEYS[2])
redis.call('DEL', KEYS[2])
local numbered = {1}
for i = 4, #ARGV do
  local id = redis.call('HINCRBY', KEYS[4], 'rule', 1)
  redis.call('HSET', KEYS[2], id, '{"id":' .. id .. ',' .. string.sub(ARGV[i], 2))
  table.insert(numbered, id)
end
redis.call('HSET', KEYS[3], 'digest', ARGV[2])
for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local P = ARGV[1] .. name .. ':'
  for _, id in ipairs(gone) do
    redis.call('HDEL', P .. 'hits', id)
  end
  redis.call('HSET', P .. 'meta', 'v', ARGV[3])
end
return numbered
"""

RECORD = """
-- ARGV: P, journal size, entry JSON
local P = ARGV[1]
return append_to_journal(P, redis.call('HGET', P .. 'meta', 'journal'), tonumber(ARGV[2]), ARGV, 3)
"""

CLEAR_JOURNAL = """
-- ARGV: P. The numbering goes on from where it was.
local P = ARGV[1]
redis.call('HINCRBY', P .. 'meta', 'journal', redis.call('LLEN', P .. 'journal'))
redis.call('DEL', P .. 'journal')
return 1
"""

JOURNAL = """
-- ARGV: P, journal size. {the number of the first entry answered, the newest entries (at most size)}.
local P = ARGV[1]
local size = tonumber(ARGV[2])
local before = tonumber(redis.call('HGET', P .. 'meta', 'journal') or '0')
local over = redis.call('LLEN', P .. 'journal') - size
if over > 0 then
  before = before + over
end
return {before + 1, redis.call('LRANGE', P .. 'journal', -size, -1)}
"""

CREATE_TASK = """
-- KEYS: namespaces, callbacks
-- ARGV: P, name, wall now, task id, family, active until ('' when ended), mock now, max tasks,
--       follow callbacks ('1' / '0'), then the record's field / value pairs
local P, name, id, family = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local key = P .. 't:' .. id
redis.call('ZADD', KEYS[1], ARGV[3], name)
redis.call('DEL', key)
redis.call('HSET', key, unpack(ARGV, 10))
local order = redis.call('HINCRBY', P .. 'meta', 'task_order', 1)
redis.call('ZADD', P .. 'tasks', order, id)
redis.call('ZADD', P .. 'fam:' .. family, order, id)
redis.call('SADD', P .. 'families', family)
if ARGV[6] ~= '' then
  redis.call('ZADD', P .. 'active:' .. family, ARGV[6], id)
end
if ARGV[9] == '1' then
  redis.call('SADD', P .. 'followed', id)
  redis.call('ZADD', KEYS[2], 0, name .. '\\n' .. id)
end
local excess = redis.call('ZCARD', P .. 'tasks') - tonumber(ARGV[8])
if excess <= 0 then
  return 1
end
-- Over the bound: forget the oldest tasks that have ended, looking at a bounded window only.
for _, old in ipairs(redis.call('ZRANGE', P .. 'tasks', 0, excess + 63)) do
  if excess <= 0 then
    break
  end
  local old_family = redis.call('HGET', P .. 't:' .. old, 'family') or ''
  local ends = redis.call('ZSCORE', P .. 'active:' .. old_family, old)
  if not ends or tonumber(ends) <= tonumber(ARGV[7]) then
    redis.call('DEL', P .. 't:' .. old)
    redis.call('ZREM', P .. 'tasks', old)
    redis.call('ZREM', P .. 'fam:' .. old_family, old)
    redis.call('ZREM', P .. 'active:' .. old_family, old)
    redis.call('SREM', P .. 'followed', old)
    redis.call('ZREM', KEYS[2], name .. '\\n' .. old)
    excess = excess - 1
  end
end
return 1
"""

POLL_TASK = """
-- ARGV: P, task id, mock now, step ('1' / '0'). Returns the record as the poll saw it.
local P = ARGV[1]
local key = P .. 't:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then
  return false
end
redis.call('HINCRBY', key, 'polls', 1)
local seen = redis.call('HGETALL', key)
if ARGV[4] == '1' then
  local entered = redis.call('HGET', key, 'entered')
  local reached = 0
  if entered ~= '' then
    reached = select(2, string.gsub(entered, ',', '')) + 1
  end
  local steps = tonumber(redis.call('HGET', key, 'nsteps'))
  if reached < steps then
    if entered == '' then entered = ARGV[3] else entered = entered .. ',' .. ARGV[3] end
    redis.call('HSET', key, 'entered', entered)
    if reached + 1 == steps then
      redis.call('ZREM', P .. 'active:' .. redis.call('HGET', key, 'family'), ARGV[2])
    end
  end
end
return seen
"""

REPLACE_TASK = """
-- ARGV: P, task id, revision read, family, active until ('' when ended), then field / value pairs
local P = ARGV[1]
local key = P .. 't:' .. ARGV[2]
if redis.call('HGET', key, 'revision') ~= ARGV[3] then
  return 0
end
redis.call('HSET', key, unpack(ARGV, 6))
if ARGV[5] == '' then
  redis.call('ZREM', P .. 'active:' .. ARGV[4], ARGV[2])
else
  redis.call('ZADD', P .. 'active:' .. ARGV[4], ARGV[5], ARGV[2])
end
return 1
"""

RUNNING = """
-- ARGV: P, family, mock now
local active = ARGV[1] .. 'active:' .. ARGV[2]
redis.call('ZREMRANGEBYSCORE', active, '-inf', ARGV[3])
return redis.call('ZCARD', active)
"""

NEXT_ID = """
-- KEYS: ids; ARGV: name, at least. Decimal strings throughout: ids pass 2^53.
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local function plus_one(s)
  local i = #s
  while i > 0 and string.sub(s, i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #s) end
  return string.sub(s, 1, i - 1) .. string.char(string.byte(s, i) + 1) .. string.rep('0', #s - i)
end
local value = plus_one(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if greater(ARGV[2], value) then value = ARGV[2] end
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
"""

COUNT = """
-- ARGV: P, counter name, limit ('' for none)
local counters = ARGV[1] .. 'counters'
local value = tonumber(redis.call('HGET', counters, ARGV[2]) or '0') + 1
if ARGV[3] ~= '' and value > tonumber(ARGV[3]) then
  return false
end
redis.call('HSET', counters, ARGV[2], value)
return value
"""

ADD_METRICS = """
-- KEYS: metrics; ARGV: (counter, amount) pairs
for i = 1, #ARGV, 2 do
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
"""

PLAY_FIRST = """
-- ARGV: P, then the recordings' names in order. The first not played yet is marked and answered.
for i = 2, #ARGV do
  if redis.call('SADD', ARGV[1] .. 'played', ARGV[i]) == 1 then
    return ARGV[i]
  end
end
return false
"""

REPLAY_SUBMITTED = """
-- ARGV: P, task id, mock now
redis.call('HSET', ARGV[1] .. 'replayed', ARGV[2], ARGV[3] .. ' 0')
return 1
"""

REPLAY_POLLED = """
-- ARGV: P, task id, mock now. Answers '<mock time of the submit> <polls before this one>' and counts this one.
local key = ARGV[1] .. 'replayed'
local seen = redis.call('HGET', key, ARGV[2]) or (ARGV[3] .. ' 0')
local cut = string.find(seen, ' ', 1, true)
redis.call('HSET', key, ARGV[2], string.sub(seen, 1, cut) .. (tonumber(string.sub(seen, cut + 1)) + 1))
return seen
"""

ADVANCE_CLOCK = """
-- ARGV: P, seconds, new version (the clock has been started). Returns the clock.
local clock = ARGV[1] .. 'clock'
redis.call('HSET', ARGV[1] .. 'meta', 'v', ARGV[3])
if redis.call('HGET', clock, 'mode') == 'manual' then
  redis.call('HINCRBYFLOAT', clock, 'manual', ARGV[2])
else
  redis.call('HINCRBYFLOAT', clock, 'offset', ARGV[2])
end
return redis.call('HGETALL', clock)
"""

SET_BALANCE = """
-- ARGV: P, key, amount, new version (taken only when the key had no quota: balances alone change no view)
local P = ARGV[1]
redis.call('HSET', P .. 'balances', ARGV[2], ARGV[3])
if redis.call('SADD', P .. 'quota_keys', ARGV[2]) == 1 then
  redis.call('HSET', P .. 'meta', 'v', ARGV[4])
end
return 1
"""

CLEAR_QUOTA = """
-- ARGV: P, new version
local P = ARGV[1]
redis.call('DEL', P .. 'quota_keys', P .. 'balances', P .. 'used', P .. 'requests')
redis.call('HSET', P .. 'meta', 'v', ARGV[2])
return 1
"""

ADD_LIMIT = """
-- ARGV: P, new version, limit JSON
redis.call('RPUSH', ARGV[1] .. 'limits', ARGV[3])
redis.call('HSET', ARGV[1] .. 'meta', 'v', ARGV[2])
return 1
"""

CLEAR_LIMITS = """
-- ARGV: P, new version
local P = ARGV[1]
for _, window in ipairs(redis.call('SMEMBERS', P .. 'windows')) do
  redis.call('DEL', P .. 'w:' .. window)
end
redis.call('DEL', P .. 'limits', P .. 'windows')
redis.call('HSET', P .. 'meta', 'v', ARGV[2])
return 1
"""

SPEND = """
-- ARGV: P, key, amount. The balance after, or false when the key has none.
local P = ARGV[1]
redis.call('HINCRBY', P .. 'used', ARGV[2], ARGV[3])
redis.call('HINCRBY', P .. 'requests', ARGV[2], 1)
if redis.call('HEXISTS', P .. 'balances', ARGV[2]) == 0 then
  return false
end
return redis.call('HINCRBY', P .. 'balances', ARGV[2], -tonumber(ARGV[3]))
"""

TALLY = """
-- ARGV: P, window, mock now, cutoff (entries at or before it have left), weight, limit ('' for none).
-- Answers {added (1 / 0), used, the oldest entry's time ('' when empty)}; the caller works out when it
-- leaves, in the same arithmetic as the in-memory store.
local P = ARGV[1]
local key = P .. 'w:' .. ARGV[2]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[4])
local used = 0
for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  used = used + tonumber(string.match(member, ':(%d+)$'))
end
local weight = tonumber(ARGV[5])
local added = 1
if ARGV[6] ~= '' and used + weight > tonumber(ARGV[6]) and used > 0 then
  added = 0
elseif weight > 0 then
  redis.call('SADD', P .. 'windows', ARGV[2])
  redis.call('ZADD', key, ARGV[3], redis.call('HINCRBY', P .. 'meta', 'window_entry', 1) .. ':' .. ARGV[5])
  used = used + weight
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {added, used, oldest[2] or ''}
"""

ENTER_GATE = """
-- ARGV: P, gate, limit. How many are in the gate now, or false when it is full.
local gates = ARGV[1] .. 'gates'
if tonumber(redis.call('HGET', gates, ARGV[2]) or '0') >= tonumber(ARGV[3]) then
  return false
end
return redis.call('HINCRBY', gates, ARGV[2], 1)
"""

LEAVE_GATE = """
-- ARGV: P, gate
local gates = ARGV[1] .. 'gates'
if tonumber(redis.call('HGET', gates, ARGV[2]) or '0') > 0 then
  redis.call('HINCRBY', gates, ARGV[2], -1)
end
return 1
"""

CLAIM_CALLBACKS = """
-- KEYS: callbacks; ARGV: namespaces' key prefix, wall now (ms), claim token (ms: when the lease ends), how many
-- A task claimed by another worker stays theirs until its lease ends; a nudge meanwhile is noted on the
-- task, and its release makes it due again.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local claimed = {}
for _, member in ipairs(due) do
  local cut = string.find(member, '\\n', 1, true)
  local key = ARGV[1] .. string.sub(member, 1, cut - 1) .. ':t:' .. string.sub(member, cut + 1)
  local delivered = redis.call('HGET', key, 'delivered')
  local lease = redis.call('HGET', key, 'lease')
  if not delivered then
    redis.call('ZREM', KEYS[1], member)
  elseif lease and tonumber(lease) > tonumber(ARGV[2]) then
    redis.call('HSET', key, 'nudged', '1')
    redis.call('ZADD', KEYS[1], lease, member)
  else
    redis.call('HSET', key, 'lease', ARGV[3])
    redis.call('ZADD', KEYS[1], ARGV[3], member)
    table.insert(claimed, member)
    table.insert(claimed, delivered)
  end
end
return claimed
"""

DELIVERED = """
-- ARGV: task key, step index
if redis.call('EXISTS', ARGV[1]) == 1 then
  redis.call('HSET', ARGV[1], 'delivered', ARGV[2])
end
return 1
"""

RELEASE = """
-- KEYS: callbacks; ARGV: member, claim token, next look (ms; '' for never), P, task id
local key = ARGV[4] .. 't:' .. ARGV[5]
if redis.call('HGET', key, 'lease') ~= ARGV[2] then
  return 0
end
local nudged = redis.call('HGET', key, 'nudged')
redis.call('HDEL', key, 'lease', 'nudged')
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if nudged or (score and score ~= ARGV[2]) then
  redis.call('ZADD', KEYS[1], 0, ARGV[1])
elseif ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('SREM', ARGV[4] .. 'followed', ARGV[5])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
"""

NUDGE = """
-- KEYS: callbacks; ARGV: P, name, wall now (ms), task id ('' for every followed task)
local P = ARGV[1]
local ids
if ARGV[4] ~= '' then
  redis.call('SADD', P .. 'followed', ARGV[4])
  ids = {ARGV[4]}
else
  ids = redis.call('SMEMBERS', P .. 'followed')
end
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'LT', ARGV[3], ARGV[2] .. '\\n' .. id)
end
return #ids
"""

DROP = """
-- KEYS: namespaces, callbacks; ARGV: P, name
local P, name = ARGV[1], ARGV[2]
local found = redis.call('ZREM', KEYS[1], name)
for _, id in ipairs(redis.call('ZRANGE', P .. 'tasks', 0, -1)) do
  redis.call('DEL', P .. 't:' .. id)
end
for _, family in ipairs(redis.call('SMEMBERS', P .. 'families')) do
  redis.call('DEL', P .. 'fam:' .. family, P .. 'active:' .. family)
end
for _, id in ipairs(redis.call('SMEMBERS', P .. 'followed')) do
  redis.call('ZREM', KEYS[2], name .. '\\n' .. id)
end
for _, window in ipairs(redis.call('SMEMBERS', P .. 'windows')) do
  redis.call('DEL', P .. 'w:' .. window)
end
found = found + redis.call('DEL', P .. 'tasks', P .. 'families', P .. 'followed', P .. 'clock', P .. 'meta', P .. 'rules', P .. 'hits', P .. 'journal', P .. 'counters', P .. 'played', P .. 'replayed')
redis.call('DEL', P .. 'quota_keys', P .. 'limits', P .. 'balances', P .. 'used', P .. 'requests', P .. 'gates', P .. 'windows')
return found
"""

OPERATIONS = {name: source for name, source in globals().items() if name.isupper() and isinstance(source, str)}

# The journal is a list of entry JSON numbered on from meta's ``journal`` (the entries numbered before
# the list's first), so an append is one call and the number of its last entry is the list's length
# after it. Past its size the list is trimmed only once it is an eighth over (a call per many appends,
# not one each); readers take its newest ``size`` (JOURNAL), so what they see is bounded exactly.
# ``entries[first]`` to the end are appended, a thousand to a call at most (Lua's stack is limited).
APPEND_TO_JOURNAL = """
local function append_to_journal(P, before, size, entries, first)
  local key = P .. 'journal'
  local length
  for i = first, #entries, 1000 do
    length = redis.call('RPUSH', key, unpack(entries, i, math.min(i + 999, #entries)))
  end
  local over = length - size
  if over > math.floor(size / 8) then
    redis.call('LTRIM', key, -size, -1)
    redis.call('HINCRBY', P .. 'meta', 'journal', over)
  end
  return tonumber(before or '0') + length
end
"""

# All operations travel in one script call, flat: per operation its name, the number of its keys and
# of its arguments, then those keys and arguments; each is run in turn (atomically, as the whole script
# is) and its result or error answered in its place. One command per round trip keeps the client's
# per-command cost out of the hot path, and reading the operations by position costs the server no
# parsing (large arguments, task records and journal entries, are passed as they are). The operations
# are branches of one function rather than a table of functions: a script's body runs on every call,
# and building dozens of closures each time would cost more than a whole journalled request.
BATCH = (
    APPEND_TO_JOURNAL
    + "local function run(op, KEYS, ARGV)\n"
    + "".join(f"{'elseif' if i else 'if'} op == '{name}' then\n{source.strip()}\n" for i, (name, source) in enumerate(OPERATIONS.items()))
    + """end
error('no operation ' .. tostring(op))
end

local results = {}
local i, n = 1, #ARGV
while i <= n do
  local op, nkeys, nargs = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local keys, args = {}, {}
  for k = 1, nkeys do
    keys[k] = ARGV[i + 2 + k]
  end
  i = i + 3 + nkeys
  for a = 1, nargs do
    args[a] = ARGV[i + a - 1]
  end
  i = i + nargs
  local ok, result = pcall(run, op, keys, args)
  if ok then
    results[#results + 1] = {1, result}
  else
    results[#results + 1] = {0, tostring(result)}
  end
end
return results
"""
)
