-- history_remove: drops the entries, keeps top offset and epoch (docs/protocol/history.md §3),
-- and empties the keyed cache table, raising its floor to the top (StrataHistory/KeyedCache.swift).
-- KEYS: 1 stream, 2 stream meta, 3 keyed values, 4 keyed order, 5 keyed tombstones
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'ex', 0, 'kc', 0, 'kf', redis.call('HGET', KEYS[2], 's') or '0')
end
return 1
