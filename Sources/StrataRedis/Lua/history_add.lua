-- Appends one publication to a channel's stream and publishes it, atomically: Redis runs a
-- script alone, so offsets, trimming, meta and the PUB/SUB message can never interleave with
-- another publish to the channel (docs/protocol/history.md §2).
--
-- KEYS: 1 stream, 2 stream meta, 3 idempotency result ('' when the publish has no key);
--       with a cache key: 4 keyed values, 5 keyed order, 6 keyed tombstones (keyed.lua)
-- ARGV: 1 publication record, 2 history size (0 = no stream), 3 history ttl (s),
--       4 PUB/SUB channel ('' = do not publish), 5 meta ttl (s, 0 = none),
--       6 epoch for a new stream, 7 now (ms; '' = Redis keeps time), 8 result ttl (s; '' = no key),
--       9 delta '1'/'0', 10 version (0 = none), 11 version epoch,
--       12 cache key ('' = none), 13 the publication removes the key '1'/'0', 14 key limit,
--       15 / 16 the epoch and offset the node has seen ('' = none; `rewound` in stream_read.lua,
--       prepended: a stream behind it gets the new epoch ARGV[6], keeping entries and top)
-- Returns {offset, epoch, from result cache '1'/'0', suppressed '1'/'0' (or 'limit': the keyed
-- table is full, nothing appended), previous record or '', and '1' when the epoch changed
-- because the stream had lost its tail}.
--
-- Meta fields: e epoch (written when the stream begins), s top offset, v / ve version and
-- version epoch; ke / kc / kf for the keyed table (keyed.lua).
--
-- Time: with no `now`, Redis's own EXPIRE on each key is the whole of expiry: an expired key is
-- gone on its next access, to the millisecond, so the script needs no clock. With a `now` (a
-- store given a clock: tests drive TTLs), Redis's timers cannot follow that clock, so the
-- expiry instants are kept in fields too and checked against `now`: ex entries expire at,
-- mx meta expires at, x (result key) expires at, all in ms.

local now = tonumber(ARGV[7])

local function ms(v) return string.format('%d', v) end

local resultTTL = tonumber(ARGV[8])
if resultTTL then
  local cached = redis.call('HMGET', KEYS[3], 's', 'e', 'x')
  if cached[1] and (not now or tonumber(cached[3] or '0') > now) then
    return {tonumber(cached[1]), cached[2] or '', '1', '1', ''}
  end
end

local function remember(offset, epoch)
  if resultTTL then
    if now then
      redis.call('HSET', KEYS[3], 's', offset, 'e', epoch, 'x', ms(now + resultTTL * 1000))
    else
      redis.call('HSET', KEYS[3], 's', offset, 'e', epoch)
    end
    redis.call('EXPIRE', KEYS[3], resultTTL)
  end
end

if tonumber(ARGV[2]) <= 0 then
  -- No stream: plain PUB/SUB, the record without a position.
  if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
  remember(0, '')
  return {0, '', '0', '0', ''}
end

-- mx / ex exist only under a given clock; without one they are nil and read as "no expiry".
local meta = redis.call('HMGET', KEYS[2], 'e', 's', 'mx', 'ex', 'v', 've')
local epoch = meta[1]
local top = tonumber(meta[2] or '0')
local fresh = false
local lost = '0'
if epoch and now and tonumber(meta[3] or '0') > 0 and now >= tonumber(meta[3]) then epoch = false end
if rewound(epoch, top, ARGV[15] or '', ARGV[16] or '') then
  -- Behind what this node saw: a new epoch over the same entries and top.
  epoch = ARGV[6]
  lost = '1'
  redis.call('HSET', KEYS[2], 'e', epoch)
end
if not epoch then
  -- No stream yet, or its meta expired: a new epoch, and nothing left of an older one.
  epoch = ARGV[6]
  top = 0
  fresh = true
  redis.call('DEL', KEYS[1], KEYS[2])
  meta = {epoch, '0', false, false, '0', ''}
elseif now and tonumber(meta[4] or '0') > 0 and now >= tonumber(meta[4]) then
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

-- HSET field/value pairs for the meta: the epoch when the stream begins, the expiry instants
-- under a given clock.
local function metaFields(fields, entriesExpire)
  if fresh then
    fields[#fields + 1] = 'e'
    fields[#fields + 1] = epoch
  end
  if now then
    fields[#fields + 1] = 'mx'
    fields[#fields + 1] = metaTTL > 0 and ms(now + metaTTL * 1000) or '0'
    if entriesExpire then
      fields[#fields + 1] = 'ex'
      fields[#fields + 1] = ms(entriesExpire)
    end
  end
  return fields
end

local version = tonumber(ARGV[10])
if version > 0 then
  local stored = tonumber(meta[5] or '0') or 0
  local sameEpoch = ARGV[11] == '' or ARGV[11] == (meta[6] or '')
  if sameEpoch and stored > 0 and version <= stored then
    -- Suppressed: nothing appended, but a stream created here keeps its epoch.
    redis.call('HSET', KEYS[2], unpack(metaFields({'s', ms(top)}, nil)))
    keepMeta()
    return {top, epoch, '0', '1', '', lost}
  end
end

-- Keyed cache channels: room for the key before anything is appended.
local cacheKey = ARGV[12] or ''
local storesKey = false
if cacheKey ~= '' then
  local floor, count = keyedTable(KEYS[2], KEYS[4], KEYS[5], KEYS[6], epoch, top)
  if redis.call('ZSCORE', KEYS[5], cacheKey) then
    storesKey = true
  elseif ARGV[13] ~= '1' then
    storesKey = true
    if count >= tonumber(ARGV[14]) then
      -- A new key at the limit: the oldest tombstone goes, or the publish is refused.
      local oldest = redis.call('ZRANGE', KEYS[6], 0, 0, 'WITHSCORES')
      if #oldest == 0 then
        redis.call('HSET', KEYS[2], unpack(metaFields({'s', ms(top)}, nil)))
        keepMeta()
        return {top, epoch, '0', 'limit', ''}
      end
      redis.call('ZREM', KEYS[6], oldest[1])
      redis.call('ZREM', KEYS[5], oldest[1])
      redis.call('HDEL', KEYS[4], oldest[1])
      if tonumber(oldest[2]) > floor then redis.call('HSET', KEYS[2], 'kf', oldest[2]) end
    end
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
local fields = {'s', ms(top)}
if version > 0 then
  fields[3] = 'v'; fields[4] = ARGV[10]; fields[5] = 've'; fields[6] = ARGV[11]
end
redis.call('HSET', KEYS[2], unpack(metaFields(fields, now and now + ttl * 1000)))
keepMeta()

if storesKey then
  local removes = ARGV[13] == '1'
  redis.call('ZADD', KEYS[5], top, cacheKey)
  redis.call('HSET', KEYS[4], cacheKey, (removes and 'r' or 'v') .. ARGV[1])
  if removes then
    redis.call('ZADD', KEYS[6], top, cacheKey)
  else
    redis.call('ZREM', KEYS[6], cacheKey)
  end
  redis.call('HSET', KEYS[2], 'kc', redis.call('ZCARD', KEYS[5]))
end
if cacheKey ~= '' then keepKeyed(KEYS[4], KEYS[5], KEYS[6], metaTTL) end

if ARGV[4] ~= '' then
  if ARGV[9] == '1' then
    redis.call('PUBLISH', ARGV[4],
      '__d1:' .. ms(top) .. ':' .. epoch .. ':' .. #previous .. ':' .. previous .. ':' .. #ARGV[1] .. ':' .. ARGV[1])
  else
    redis.call('PUBLISH', ARGV[4], '__p1:' .. ms(top) .. ':' .. epoch .. '__' .. ARGV[1])
  end
end
remember(top, epoch)
return {top, epoch, '0', '0', previous, lost}
