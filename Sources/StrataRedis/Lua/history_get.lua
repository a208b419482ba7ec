-- Reads a channel's stream and its top position; creates the stream (new epoch) when it does
-- not exist, so a later publish continues that epoch (docs/protocol/history.md §1, §3).
--
-- KEYS: 1 stream, 2 stream meta
-- ARGV: 1 include publications '1'/'0', 2 since offset ('' = from the stream's end),
--       3 limit (-1 = all), 4 reverse '1'/'0', 5 meta ttl (s, 0 = none),
--       6 epoch for a new stream, 7 now (ms; '' = Redis keeps time)
-- Returns {top, epoch, entries}; entries as XRANGE gives them ({id "<offset>-0", {"d", record}}).
--
-- Time as in history_add.lua: without `now`, Redis's EXPIRE alone expires the keys and the
-- ms fields (mx, ex) are never written; with a `now`, they are checked and kept.

local now = tonumber(ARGV[7])

local function ms(v) return string.format('%d', v) end

local meta = redis.call('HMGET', KEYS[2], 'e', 's', 'mx', 'ex')
local epoch = meta[1]
local top = 0
if epoch and now and tonumber(meta[3] or '0') > 0 and now >= tonumber(meta[3]) then epoch = false end
if not epoch then
  epoch = ARGV[6]
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0)
else
  top = tonumber(meta[2] or '0')
  if now and tonumber(meta[4] or '0') > 0 and now >= tonumber(meta[4]) then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[2], 'ex', 0)
  end
end

-- Reads keep the stream alive: meta ttl counts from the last publish or read.
local metaTTL = tonumber(ARGV[5])
if metaTTL > 0 then
  redis.call('EXPIRE', KEYS[2], metaTTL)
  if now then redis.call('HSET', KEYS[2], 'mx', ms(now + metaTTL * 1000)) end
end

if ARGV[1] ~= '1' then return {top, epoch, {}} end

local limit = tonumber(ARGV[3])
-- XRANGE from..to or XREVRANGE to..from, at most `limit` entries when one is set.
local function range(command, first, last)
  if limit > 0 then return redis.call(command, KEYS[1], first, last, 'COUNT', limit) end
  return redis.call(command, KEYS[1], first, last)
end

if ARGV[4] ~= '1' then
  local from = '-'
  if ARGV[2] ~= '' then
    local since = tonumber(ARGV[2])
    if since >= top then return {top, epoch, {}} end
    from = ms(since + 1) .. '-0'
  end
  return {top, epoch, range('XRANGE', from, '+')}
end
local to = '+'
if ARGV[2] ~= '' then
  local since = tonumber(ARGV[2])
  if since <= 1 then return {top, epoch, {}} end
  to = ms(since - 1) .. '-0'
end
return {top, epoch, range('XREVRANGE', to, '-')}
