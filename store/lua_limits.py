"""Lua scripts of the limits, each one atomic step: a subject's submission rate and active
jobs, the service's active jobs, and the store's storage reservations (key names in
store/keys.py). They run before a job exists, so none carries ``allow-oom``: on a full store
they are refused like the submission itself.
"""

from store.lua import NOW as _NOW

# KEYS: a subject's submission times (sorted set)
# ARGV: the limit, the window in seconds, then a unique member per job submitted
# A sliding window on the server's clock: admits the n jobs while at most the limit would
# have been admitted in the last window. Returns {admitted (0/1), count, seconds until enough
# slots free (string)}; n over the limit never fits ('inf').
RATE = (
    _NOW
    + """
local t, window, limit = now(), tonumber(ARGV[2]), tonumber(ARGV[1])
local n = #ARGV - 2
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
local count = redis.call('ZCARD', KEYS[1])
if n > limit then return {0, count, 'inf'} end
if count + n > limit then
  local freeing = redis.call('ZRANGE', KEYS[1], count + n - limit - 1, count + n - limit - 1,
                             'WITHSCORES')
  return {0, count, tostring(tonumber(freeing[2]) + window - t)}
end
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], t, ARGV[i]) end
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return {1, count + n, '0'}
"""
)

# KEYS: the queued index, the running index, the pending ids (sorted set, score = admitted)
# ARGV: the limit, seconds an id may stay pending, then the new job ids
# The service-wide limit: queued + running + pending (admitted, not yet stored) jobs. Admits
# all the new ids as pending or none, in one step, so concurrent submissions on any number of
# API processes never pass it together. Returns {admitted (0/1), active count}.
CAPACITY = (
    _NOW
    + """
local t = now()
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', t - tonumber(ARGV[2]))
local active = 0
for k = 1, 3 do active = active + redis.call('ZCARD', KEYS[k]) end
local n = #ARGV - 2
if active + n > tonumber(ARGV[1]) then return {0, active} end
for i = 3, #ARGV do redis.call('ZADD', KEYS[3], t, ARGV[i]) end
redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[2])) + 1)
return {1, active + n}
"""
)

# KEYS: a subject's active job ids (sorted set, score = when admitted)
# ARGV: the limit, the job hash key prefix, the cancel flag's suffix, seconds a reserved id may
#       go without its hash, the set's idle expiry, then the new job ids
# First drops the ids whose job has ended, or whose hash is gone: deleted (its cancel flag
# stays), expired, or a reservation never used; then admits all the new ids or none. The job
# keys are read by name (prefix + id + suffix): like the store, this assumes one Redis.
ADMIT = (
    _NOW
    + """
local t = now()
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #members, 2 do
  local id = members[i]
  local status = redis.call('HGET', ARGV[2] .. id, 'status')
  local ended = status and status ~= 'queued' and status ~= 'running'
  local gone = not status and (t - tonumber(members[i + 1]) > tonumber(ARGV[4])
    or redis.call('EXISTS', ARGV[2] .. id .. ARGV[3]) == 1)
  if ended or gone then redis.call('ZREM', KEYS[1], id) end
end
local count = redis.call('ZCARD', KEYS[1])
if count + #ARGV - 5 > tonumber(ARGV[1]) then return {0, count} end
for i = 6, #ARGV do redis.call('ZADD', KEYS[1], t, ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, count + #ARGV - 5}
"""
)


# KEYS: the reservations hash (job id -> "bytes:time admitted"), the final statuses' indexes
#       (succeeded, failed, cancelled), then every other index a job id sits in
# ARGV: bytes kept free below maxmemory, the job hash key prefix, seconds a reservation may go
#       without its job's hash, index entries it may visit to delete (0: none), the suffixes of
#       a job's other keys (space-separated), its cancel flag's suffix, an owner index's prefix
#       and suffix, then (job id, bytes) pairs
# Drops the reservations of jobs that ended or are gone. While Redis's used_memory + what
# running and queued jobs may still write + the new jobs' estimate is over maxmemory - the
# margin, deletes the oldest ended job (the lowest id of the final indexes) as lua.DELETE does;
# an index entry whose job is gone or active is only dropped (ARGV[4] entries at most). Admits
# every pair or none. All in one step: admissions at once never delete the same job twice, and
# none deletes more than its jobs need. Returns {admitted (0/1), used_memory, reserved (after),
# maxmemory (0: no limit), bytes asked, ended jobs deleted}.
RESERVE = (
    _NOW
    + """
local function used_memory()
  return tonumber(string.match(redis.call('INFO', 'memory'), 'used_memory:(%d+)'))
end
local function oldest_ended()
  local oldest, from
  for k = 2, 4 do
    local first = redis.call('ZRANGE', KEYS[k], '-', '+', 'BYLEX', 'LIMIT', 0, 1)[1]
    if first and (not oldest or first < oldest) then oldest, from = first, k end
  end
  return oldest, from
end
local t, prefix = now(), ARGV[2]
local used = used_memory()
local max = tonumber(string.match(redis.call('INFO', 'memory'), 'maxmemory:(%d+)'))
local held = redis.call('HGETALL', KEYS[1])
local reserved = 0
for i = 1, #held, 2 do
  local bytes, at = string.match(held[i + 1], '^(%d+):(.+)$')
  local status = redis.call('HGET', prefix .. held[i], 'status')
  local active = status == 'queued' or status == 'running'
  if active or (not status and t - tonumber(at) < tonumber(ARGV[3])) then
    reserved = reserved + tonumber(bytes)
  else
    redis.call('HDEL', KEYS[1], held[i])
  end
end
local want = 0
for i = 10, #ARGV, 2 do want = want + tonumber(ARGV[i]) end
local limit, deleted, steps = max - tonumber(ARGV[1]), 0, 0
while max > 0 and used + reserved + want > limit and steps < tonumber(ARGV[4]) do
  steps = steps + 1
  local id, from = oldest_ended()
  if not id then break end
  local job = prefix .. id
  local status, owner, expire_at = unpack(redis.call('HMGET', job, 'status', 'owner', 'expire_at'))
  if status == 'succeeded' or status == 'failed' or status == 'cancelled' then
    redis.call('DEL', job)
    for suffix in string.gmatch(ARGV[5], '%S+') do redis.call('DEL', job .. suffix) end
    redis.call('HDEL', KEYS[1], id)
    for k = 2, #KEYS do redis.call('ZREM', KEYS[k], id) end
    if owner and owner ~= '' then redis.call('ZREM', ARGV[7] .. owner .. ARGV[8], id) end
    redis.call('SET', job .. ARGV[6], 1, 'EXAT', tonumber(expire_at or '') or 1)
    deleted = deleted + 1
    used = used_memory()
  else
    redis.call('ZREM', KEYS[from], id)  -- a stale entry: its job is gone, or runs again
  end
end
if max > 0 and used + reserved + want > limit then
  return {0, used, reserved, max, want, deleted}
end
for i = 9, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. string.format('%.3f', t))
end
return {1, used, reserved + want, max, want, deleted}
"""
)
