-- The stream as a read finds it: a function shared by history_get.lua and keyed_get.lua,
-- prepended to both (RedisScript), so it is a local of each script.
--
-- Creates the stream (a new epoch) when it does not exist or its meta expired, so a later publish
-- continues that epoch; empties an entry set past history_ttl (keeping top and epoch); and
-- refreshes the meta TTL — reads keep the stream alive, meta ttl counts from the last publish or
-- read. Time as in history_add.lua: without `now`, Redis's EXPIRE alone expires the keys and the
-- ms fields (mx, ex) are never written; with a `now`, they are checked and kept.
--
-- `seenEpoch` / `seenOffset`: the newest position the calling node has seen of this channel
-- (its appends, reads and PUB/SUB deliveries; '' when it has seen none). A stream whose top is
-- below it in the same epoch has lost its tail (a replica promoted behind its master, a restore
-- from an older copy): the epoch changes, entries and top stay, so every client learns that
-- the history it saw is not this one (`rewound` below; docs/redis.md, "Lost history").
-- Returns epoch, top, rewound.
local function rewound(epoch, top, seenEpoch, seenOffset)
  return epoch ~= nil and epoch ~= false and seenEpoch ~= '' and epoch == seenEpoch and top < (tonumber(seenOffset) or 0)
end

local function readStream(stream, metaKey, newEpoch, now, metaTTL, seenEpoch, seenOffset)
  local meta = redis.call('HMGET', metaKey, 'e', 's', 'mx', 'ex')
  local epoch = meta[1]
  local top = 0
  local lost = false
  if epoch and now and tonumber(meta[3] or '0') > 0 and now >= tonumber(meta[3]) then epoch = false end
  if not epoch then
    epoch = newEpoch
    redis.call('DEL', stream, metaKey)
    redis.call('HSET', metaKey, 'e', epoch, 's', 0)
  else
    top = tonumber(meta[2] or '0')
    if rewound(epoch, top, seenEpoch or '', seenOffset or '') then
      epoch = newEpoch
      lost = true
      redis.call('HSET', metaKey, 'e', epoch)
    end
    if now and tonumber(meta[4] or '0') > 0 and now >= tonumber(meta[4]) then
      redis.call('DEL', stream)
      redis.call('HSET', metaKey, 'ex', 0)
    end
  end
  if metaTTL > 0 then
    redis.call('EXPIRE', metaKey, metaTTL)
    if now then redis.call('HSET', metaKey, 'mx', string.format('%d', now + metaTTL * 1000)) end
  end
  return epoch, top, lost
end

