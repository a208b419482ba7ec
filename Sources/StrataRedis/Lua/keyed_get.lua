-- Reads a channel's keyed cache table (keyed.lua, prepended) and its top position; creates the
-- stream (new epoch) when it does not exist, as history_get.lua does.
--
-- KEYS: 1 stream, 2 stream meta, 3 keyed values, 4 keyed order, 5 keyed tombstones
-- ARGV: 1 since ('' = the live keys only; else every entry after that offset, tombstones too),
--       2 meta ttl (s, 0 = none), 3 epoch for a new stream, 4 now (ms; '' = Redis keeps time)
-- Returns {top, epoch, floor, {offset, value, offset, value, ...}} in offset order, each value
-- 'v' or 'r' (tombstone) then the publication record.

local now = tonumber(ARGV[4])

local meta = redis.call('HMGET', KEYS[2], 'e', 's', 'mx', 'ex')
local epoch = meta[1]
local top = 0
if epoch and now and tonumber(meta[3] or '0') > 0 and now >= tonumber(meta[3]) then epoch = false end
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0)
else
  top = tonumber(meta[2] or '0')
  if now and tonumber(meta[4] or '0') > 0 and now >= tonumber(meta[4]) then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[2], 'ex', 0)
  end
end
local floor = keyedTable(KEYS[2], KEYS[3], KEYS[4], KEYS[5], epoch, top)

local metaTTL = tonumber(ARGV[2])
if metaTTL > 0 then
  redis.call('EXPIRE', KEYS[2], metaTTL)
  if now then redis.call('HSET', KEYS[2], 'mx', string.format('%d', now + metaTTL * 1000)) end
  keepKeyed(KEYS[3], KEYS[4], KEYS[5], metaTTL)
end

local members
if ARGV[1] == '' then
  members = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
else
  members = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[1], '+inf', 'WITHSCORES')
end
local out = {}
-- HMGET in chunks of 1000 keys: unpack stops at a few thousand values.
for first = 1, #members, 2000 do
  local last = math.min(first + 1998, #members - 1)
  local names = {}
  for i = first, last, 2 do names[#names + 1] = members[i] end
  local values = redis.call('HMGET', KEYS[3], unpack(names))
  for n = 1, #names do
    local value = values[n]
    if value and (ARGV[1] ~= '' or string.sub(value, 1, 1) ~= 'r') then
      out[#out + 1] = members[first + 2 * (n - 1) + 1]
      out[#out + 1] = value
    end
  end
end
return {top, epoch, floor, out}
