-- Returns the channel's live presence entries (flat: id, info, id, info, ...), first dropping
-- entries whose node stopped refreshing them (crashed, or cut off from Redis).
-- KEYS: 1 presence hash, 2 expiry sorted set. ARGV: 1 now (s; '' = Redis TIME)
local now = tonumber(ARGV[1])
if not now then now = tonumber(redis.call('TIME')[1]) end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '0', now)
if #expired > 0 then
  for i = 1, #expired do redis.call('HDEL', KEYS[1], expired[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '0', now)
end
return redis.call('HGETALL', KEYS[1])
