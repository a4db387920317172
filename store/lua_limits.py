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


# KEYS: the reservations hash (job id -> "bytes:time admitted")
# ARGV: bytes kept free below maxmemory, the job hash key prefix, seconds a reservation may go
#       without its job's hash, then (job id, bytes) pairs
# Drops the reservations of jobs that ended or are gone, then admits every pair or none:
# while Redis's used_memory + what running and queued jobs may still write + the new jobs'
# estimate stays within maxmemory - the margin. Returns {admitted (0/1), used_memory,
# reserved (after), maxmemory (0: no limit), bytes asked}.
RESERVE = (
    _NOW
    + """
local t = now()
local info = redis.call('INFO', 'memory')
local used = tonumber(string.match(info, 'used_memory:(%d+)'))
local max = tonumber(string.match(info, 'maxmemory:(%d+)'))
local held = redis.call('HGETALL', KEYS[1])
local reserved = 0
for i = 1, #held, 2 do
  local bytes, at = string.match(held[i + 1], '^(%d+):(.+)$')
  local status = redis.call('HGET', ARGV[2] .. held[i], 'status')
  local active = status == 'queued' or status == 'running'
  if active or (not status and t - tonumber(at) < tonumber(ARGV[3])) then
    reserved = reserved + tonumber(bytes)
  else
    redis.call('HDEL', KEYS[1], held[i])
  end
end
local want = 0
for i = 5, #ARGV, 2 do want = want + tonumber(ARGV[i]) end
if max > 0 and used + reserved + want > max - tonumber(ARGV[1]) then
  return {0, used, reserved, max, want}
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. string.format('%.3f', t))
end
return {1, used, reserved + want, max, want}
"""
)
