-- A heartbeat without the connection list: the gateway lives; presence is left as it is.
-- ARGV: prefix, gateway_id
redis.call('ZADD', K_GWS, NOW, ARGV[2])
return finish(true)
