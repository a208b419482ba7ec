-- Reads a channel's keyed cache table (keyed.lua, prepended) and its top position; the stream
-- is found as history_get.lua finds it (stream_read.lua, prepended).
--
-- KEYS: 1 stream, 2 stream meta, 3 keyed values, 4 keyed order, 5 keyed tombstones
-- ARGV: 1 since ('' = the live keys only; else every entry after that offset, tombstones too),
--       2 meta ttl (s, 0 = none), 3 epoch for a new stream, 4 now (ms; '' = Redis keeps time),
--       5 / 6 the epoch and offset the node has seen ('' = none; stream_read.lua)
-- Returns {top, epoch, floor, {offset, value, offset, value, ...}, lost tail '1'/'0'} in offset
-- order, each value 'v' or 'r' (tombstone) then the publication record.

local now = tonumber(ARGV[4])

local metaTTL = tonumber(ARGV[2])
local epoch, top, lost = readStream(KEYS[1], KEYS[2], ARGV[3], now, metaTTL, ARGV[5], ARGV[6])
local floor = keyedTable(KEYS[2], KEYS[3], KEYS[4], KEYS[5], epoch, top)
if metaTTL > 0 then keepKeyed(KEYS[3], KEYS[4], KEYS[5], metaTTL) end

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
return {top, epoch, floor, out, lost and '1' or '0'}
