-- Adds (or refreshes) one client's presence entry; it expires `ttl` seconds later unless added again.
-- KEYS: 1 presence hash (client id -> info record), 2 expiry sorted set (client id -> expires at, s)
-- ARGV: 1 ttl (s), 2 now (s; '' = Redis TIME), 3 client id, 4 info record
local now = tonumber(ARGV[2])
if not now then now = tonumber(redis.call('TIME')[1]) end
local ttl = tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
