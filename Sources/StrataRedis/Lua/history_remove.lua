-- history_remove: drops the entries, keeps top offset and epoch (docs/protocol/history.md §3).
-- KEYS: 1 stream, 2 stream meta
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'ex', 0) end
return 1
