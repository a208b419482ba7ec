-- Keyed cache tables (StrataHistory/KeyedCache.swift): functions shared by history_add.lua and
-- keyed_get.lua, prepended to both (RedisScript), so they are locals of each script.
--
-- A table is three keys: values (hash: key -> 'v', or 'r' for a tombstone, then the publication
-- record), order (sorted set: every key by its entry's offset) and tombstones (sorted set: the
-- removed keys by offset). Meta fields: ke the epoch the table belongs to, kc its entries after
-- the last write, kf its floor (changes at or below it may be forgotten).

-- Makes sure the table belongs to `epoch`; returns its floor and entry count.
local function keyedTable(metaKey, values, order, tombstones, epoch, top)
  local m = redis.call('HMGET', metaKey, 'ke', 'kc', 'kf')
  if m[1] ~= epoch then
    -- A table of an older epoch, or none yet: start empty. Started mid-stream (the namespace
    -- turned keyed later), positions before now cannot be caught up with changes.
    redis.call('DEL', values, order, tombstones)
    redis.call('HSET', metaKey, 'ke', epoch, 'kc', 0, 'kf', top)
    return top, 0
  end
  local count = redis.call('ZCARD', order)
  local floor = tonumber(m[3] or '0')
  if count == 0 and top > floor then
    -- An empty table's floor is the top: publications before its first key are not in it.
    -- (Also when it expired while the meta lived on — reads of the stream alone refresh the
    -- meta's TTL, not the table's — and `kc` still counts what it held: that is forgotten.)
    floor = top
    redis.call('HSET', metaKey, 'kc', 0, 'kf', floor)
  end
  return floor, count
end

-- The table lives as long as the meta: the same TTL, refreshed by keyed appends and reads.
local function keepKeyed(values, order, tombstones, metaTTL)
  for _, key in ipairs({values, order, tombstones}) do
    if metaTTL > 0 then redis.call('EXPIRE', key, metaTTL) else redis.call('PERSIST', key) end
  end
end

