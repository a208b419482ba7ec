-- Appends one publication to a channel's stream and publishes it, atomically: Redis runs a
-- script alone, so offsets, trimming, meta and the PUB/SUB message can never interleave with
-- another publish to the channel (history-and-recovery.md §2).
--
-- KEYS: 1 stream, 2 stream meta, 3 idempotency result ('' when the publish has no key)
-- ARGV: 1 publication record, 2 history size (0 = no stream), 3 history ttl (s),
--       4 PUB/SUB channel ('' = do not publish), 5 meta ttl (s, 0 = none),
--       6 epoch for a new stream, 7 now (ms; '' = Redis TIME), 8 result ttl (s; '' = no key),
--       9 delta '1'/'0', 10 version (0 = none), 11 version epoch
-- Returns {offset, epoch, from result cache '1'/'0', suppressed '1'/'0', previous record or ''}.
--
-- Meta fields: e epoch, s top offset, ex entries expire at (ms), mx meta expires at (ms),
-- v / ve version and version epoch. The ms fields make expiry exact at `now` even before
-- Redis's own EXPIRE has removed the keys (and let tests drive time).

local now = tonumber(ARGV[7])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function ms(v) return string.format('%d', v) end

if ARGV[8] ~= '' then
  local cached = redis.call('HMGET', KEYS[3], 's', 'e', 'x')
  if cached[1] and tonumber(cached[3] or '0') > now then
    return {tonumber(cached[1]), cached[2] or '', '1', '1', ''}
  end
end

local function remember(offset, epoch)
  if ARGV[8] ~= '' then
    local ttl = tonumber(ARGV[8])
    redis.call('HSET', KEYS[3], 's', offset, 'e', epoch, 'x', ms(now + ttl * 1000))
    redis.call('EXPIRE', KEYS[3], ttl)
  end
end

if tonumber(ARGV[2]) <= 0 then
  -- No stream: plain PUB/SUB, the record without a position.
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
  remember(0, '')
  return {0, '', '0', '0', ''}
end

local meta = redis.call('HMGET', KEYS[2], 'e', 's', 'mx', 'ex', 'v', 've')
local epoch = meta[1]
local top = tonumber(meta[2] or '0')
if epoch and tonumber(meta[3] or '0') > 0 and now >= tonumber(meta[3]) then epoch = false end
if not epoch then
  -- No stream yet, or its meta expired: a new epoch, and nothing left of an older one.
  epoch = ARGV[6]
  top = 0
  redis.call('DEL', KEYS[1], KEYS[2])
  meta = {epoch, '0', '0', '0', '0', ''}
elseif tonumber(meta[4] or '0') > 0 and now >= tonumber(meta[4]) then
  -- The entry set outlived history_ttl: drop it, keep top and epoch.
  redis.call('DEL', KEYS[1])
end

local metaTTL = tonumber(ARGV[5])
local function keepMeta()
  if metaTTL > 0 then
    redis.call('EXPIRE', KEYS[2], metaTTL)
  else
    redis.call('PERSIST', KEYS[2])
  end
end
local expiry = metaTTL > 0 and ms(now + metaTTL * 1000) or '0'

local version = tonumber(ARGV[10])
if version > 0 then
  local stored = tonumber(meta[5] or '0') or 0
  local sameEpoch = ARGV[11] == '' or ARGV[11] == (meta[6] or '')
  if sameEpoch and stored > 0 and version <= stored then
    -- Suppressed: nothing appended, but a stream created here keeps its epoch.
    redis.call('HSET', KEYS[2], 'e', epoch, 's', top, 'mx', expiry)
    keepMeta()
    return {top, epoch, '0', '1', ''}
  end
end

local previous = ''
if ARGV[9] == '1' and top > 0 then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
  if #last > 0 then previous = last[1][2][2] end
end

top = top + 1
local ttl = tonumber(ARGV[3])
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], ms(top) .. '-0', 'd', ARGV[1])
redis.call('EXPIRE', KEYS[1], ttl)
if version > 0 then
  redis.call('HSET', KEYS[2], 'e', epoch, 's', ms(top), 'ex', ms(now + ttl * 1000), 'mx', expiry, 'v', ARGV[10], 've', ARGV[11])
else
  redis.call('HSET', KEYS[2], 'e', epoch, 's', ms(top), 'ex', ms(now + ttl * 1000), 'mx', expiry)
end
keepMeta()

if ARGV[4] ~= '' then
  if ARGV[9] == '1' then
    redis.call('PUBLISH', ARGV[4],
      '__d1:' .. ms(top) .. ':' .. epoch .. ':' .. #previous .. ':' .. previous .. ':' .. #ARGV[1] .. ':' .. ARGV[1])
  else
    redis.call('PUBLISH', ARGV[4], '__p1:' .. ms(top) .. ':' .. epoch .. '__' .. ARGV[1])
  end
end
remember(top, epoch)
return {top, epoch, '0', '0', previous}
