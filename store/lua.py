"""Lua scripts of the job store, each one atomic step (key names in store/keys.py): on one
job (read, transition, append, tick, reuse, delete), or on a listing. The limits' scripts are
in store/lua_limits.py.

On a full store (``maxmemory`` reached, ``noeviction``) Redis refuses a script's first write
that may grow memory; a script flagged ``allow-oom`` (:data:`ALLOW_OOM`) runs whole. Those that
end, cancel or delete a job, or beat its heartbeat, carry it: they write a few bytes, or free
them, so a full store can always be emptied and a job always ends.

Times come from the Redis server's clock (``TIME``), so heartbeats written by a worker and
checked by an API on another machine compare on one clock.
"""

ALLOW_OOM = "#!lua flags=allow-oom\n"

NOW = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1e6
end
"""

# KEYS: job hash, running index, failed index
# ARGV: id, grace seconds ('' = no check), error JSON, finished_at
# The reaper's check (worker/reaper.py): with a grace, a running job silent for longer fails.
READ_JOB = (
    ALLOW_OOM
    + NOW
    + """
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'status') == 'running' then
  local beat = tonumber(redis.call('HGET', KEYS[1], 'heartbeat') or '0')
  if now() - beat > tonumber(ARGV[2]) then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('ZADD', KEYS[3], 0, ARGV[1])
    redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[3], 'finished_at', ARGV[4])
  end
end
return redis.call('HGETALL', KEYS[1])
"""
)

# KEYS: job hash, records stream; ARGV: lower entry id, upper entry id, how many at most
# The job's status and the first records of a page in one atomic read (a final status means
# no record is missing). ``no-writes``: it runs on a full store, where a MULTI would not.
PAGE = """#!lua flags=no-writes
local status = redis.call('HGET', KEYS[1], 'status') or ''
return {status, redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[2], 'COUNT', ARGV[3])}
"""

# KEYS: job hash, target index, one index per allowed source status (in ARGV's order)
# ARGV: id, target, n sources, sources..., field, value, ...
# Returns {applied (0/1), status before ('' if the job is gone)}.
TRANSITION = (
    ALLOW_OOM
    + NOW
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0, ''} end
local n = tonumber(ARGV[3])
for i = 1, n do
  if ARGV[3 + i] == status then
    redis.call('ZREM', KEYS[2 + i], ARGV[1])
    redis.call('ZADD', KEYS[2], 0, ARGV[1])
    redis.call('HSET', KEYS[1], 'status', ARGV[2])
    if #ARGV > 3 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 4 + n)) end
    if ARGV[2] == 'running' then
      redis.call('HSET', KEYS[1], 'heartbeat', string.format('%.3f', now()))
    end
    return {1, status}
  end
end
return {0, status}
"""
)

# KEYS: job hash, records stream, params hash, dataset
# ARGV: expire_at, n records, n snapshot fields, dataset JSON ('' = none),
#       (entry id, skeleton, arrays ('' = none))..., (params field, value)..., field, value, ...
# (the layout of records and snapshots: store/packing.py)
# Writes only while the job is running; returns its status ('' if it is gone). A record of an
# iteration at or before the stream's last one is skipped: a redelivered job rewrites nothing,
# and its fields (iteration, progress) are written only when the stream gets past the
# iteration the hash holds, so a rerun or a duplicate run never moves them back.
APPEND = (
    NOW
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then return status or '' end
local held = tonumber(redis.call('HGET', KEYS[1], 'iteration') or '') or -1
local last = -1
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #top > 0 then last = tonumber(string.match(top[1][1], '^(%d+)')) end
local i = 5
for _ = 1, tonumber(ARGV[2]) do
  local iteration = tonumber(string.match(ARGV[i], '^(%d+)'))
  if iteration > last then
    if ARGV[i + 2] == '' then
      redis.call('XADD', KEYS[2], ARGV[i], 'z', ARGV[i + 1])
    else
      redis.call('XADD', KEYS[2], ARGV[i], 'z', ARGV[i + 1], 'b', ARGV[i + 2])
    end
    last = iteration
  end
  i = i + 3
end
for _ = 1, tonumber(ARGV[3]) do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[4]) end
if i <= #ARGV and last > held then redis.call('HSET', KEYS[1], unpack(ARGV, i)) end
redis.call('HSET', KEYS[1], 'heartbeat', string.format('%.3f', now()))
for k = 2, 4 do redis.call('EXPIREAT', KEYS[k], ARGV[1]) end
return status
"""
)

# KEYS: job hash, cancel flag; ARGV: write a heartbeat ('1') or not ('0')
# Returns {status ('' if gone), cancel flag set (0/1)}.
TICK = (
    ALLOW_OOM
    + NOW
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'running' and ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'heartbeat', string.format('%.3f', now()))
end
return {status or '', redis.call('EXISTS', KEYS[2])}
"""
)

# KEYS: source job hash, records, params, dataset; the copy's four keys in the same order;
#       the all-jobs index, the succeeded index, the spec key, the owner's index (or all-jobs)
# ARGV: the copy's id, its created_at, its expire_at, the owner ('' with auth off)
# A succeeded job of the same owner becomes a new succeeded job with its own copies of every
# result (so deleting either leaves the other whole); returns the copy's hash, or {} if the
# source has not succeeded or is another owner's.
REUSE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'succeeded' then return {} end
if (redis.call('HGET', KEYS[1], 'owner') or '') ~= ARGV[4] then return {} end
local origin = redis.call('HGET', KEYS[1], 'reused_from')
if not origin or origin == '' then origin = redis.call('HGET', KEYS[1], 'id') end
redis.call('HSET', KEYS[5], unpack(redis.call('HGETALL', KEYS[1])))
redis.call('HSET', KEYS[5], 'id', ARGV[1], 'created_at', ARGV[2], 'started_at', ARGV[2],
           'finished_at', ARGV[2], 'expire_at', ARGV[3], 'reused_from', origin, 'deliveries', 0)
redis.call('HDEL', KEYS[5], 'heartbeat', 'worker')
for k = 2, 4 do
  if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('COPY', KEYS[k], KEYS[k + 4], 'REPLACE') end
end
for k = 5, 8 do redis.call('EXPIREAT', KEYS[k], ARGV[3]) end
redis.call('ZADD', KEYS[9], 0, ARGV[1])
redis.call('ZADD', KEYS[10], 0, ARGV[1])
redis.call('ZADD', KEYS[12], 0, ARGV[1])
redis.call('SET', KEYS[11], ARGV[1], 'EXAT', ARGV[3])
return redis.call('HGETALL', KEYS[5])
"""

# KEYS: two sorted sets of ids at score 0 (an owner's jobs, a status index)
# ARGV: upper bound ('+' or '(id'), how many ids at most (0: count them all instead)
# The ids in both, newest first below the bound (or their number): walks the smaller set and
# keeps the ids the other holds, so it costs the smaller set's size at worst.
INTERSECT = """
local small, big = KEYS[1], KEYS[2]
if redis.call('ZCARD', big) < redis.call('ZCARD', small) then small, big = big, small end
local upper, want, found, n = ARGV[1], tonumber(ARGV[2]), {}, 0
while want == 0 or #found < want do
  local ids = redis.call('ZRANGE', small, upper, '-', 'BYLEX', 'REV', 'LIMIT', 0, 512)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if redis.call('ZSCORE', big, id) then
      n = n + 1
      if want > 0 then
        found[#found + 1] = id
        if #found == want then break end
      end
    end
  end
  upper = '(' .. ids[#ids]
end
if want == 0 then return n end
return found
"""

# KEYS: the queue's list, its pushed counter, the job hash
# ARGV: the task message
# Pushes the task and notes on the job where (store/lanes.py reads its place from them).
ENQUEUE = """
local seq = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], 'queue', KEYS[1], 'queue_seq', seq)
return seq
"""

# KEYS: the job's hash, records, params, dataset; its cancel flag; the reservations hash; then
#       every index it may sit in
# ARGV: id, the cancel flag's expire_at
# Deletes every key of the job and frees its storage reservation at once, then sets the cancel
# flag (to its expiry) so a running loop stops: on a full store too (DEL frees first).
DELETE = (
    ALLOW_OOM
    + """
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('HDEL', KEYS[6], ARGV[1])
for k = 7, #KEYS do redis.call('ZREM', KEYS[k], ARGV[1]) end
redis.call('SET', KEYS[5], 1, 'EXAT', ARGV[2])
return 1
"""
)

# KEYS: a job's cancel flag; ARGV: its expire_at, the job id
# Cancel a running job (its loop polls the flag) on a full store too; its reservation stays
# until it ends.
CANCEL = (
    ALLOW_OOM
    + """
redis.call('SET', KEYS[1], 1, 'EXAT', ARGV[1])
return 1
"""
)
