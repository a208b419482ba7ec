-- Reads a channel's stream and its top position; `readStream` (stream_read.lua, prepended)
-- creates the stream when it does not exist and keeps it alive (docs/protocol/history.md §1, §3).
--
-- KEYS: 1 stream, 2 stream meta
-- ARGV: 1 include publications '1'/'0', 2 since offset ('' = from the stream's end),
--       3 limit (-1 = all), 4 reverse '1'/'0', 5 meta ttl (s, 0 = none),
--       6 epoch for a new stream, 7 now (ms; '' = Redis keeps time),
--       8 / 9 the epoch and offset the node has seen ('' = none; stream_read.lua)
-- Returns {top, epoch, entries, '1' when the epoch changed because the stream had lost its
-- tail}; entries as XRANGE gives them ({id "<offset>-0", {"d", record}}).

local now = tonumber(ARGV[7])

local function ms(v) return string.format('%d', v) end

local epoch, top, lost = readStream(KEYS[1], KEYS[2], ARGV[6], now, tonumber(ARGV[5]), ARGV[8], ARGV[9])

if ARGV[1] ~= '1' then return {top, epoch, {}, lost and '1' or '0'} end

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
    if since >= top then return {top, epoch, {}, lost and '1' or '0'} end
    from = ms(since + 1) .. '-0'
  end
  return {top, epoch, range('XRANGE', from, '+'), lost and '1' or '0'}
end
local to = '+'
if ARGV[2] ~= '' then
  local since = tonumber(ARGV[2])
  if since <= 1 then return {top, epoch, {}, lost and '1' or '0'} end
  to = ms(since - 1) .. '-0'
end
return {top, epoch, range('XREVRANGE', to, '-'), lost and '1' or '0'}
