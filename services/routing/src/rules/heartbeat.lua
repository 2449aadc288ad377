-- A gateway lists all its live connections: anything it no longer lists is gone, anything new
-- is added (this also rebuilds presence after Redis lost it).
-- ARGV: prefix, gateway_id, members_json (array), operator_grace_ms, visitor_grace_ms, at_ms
local gw, members = ARGV[2], cjson.decode(ARGV[3])
local op_grace, v_grace, at = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZADD', K_GWS, NOW, gw)
local listed = {}
for _, m in ipairs(members) do listed[m] = true end
-- Only connections opened before this list was taken can be missing from it.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', k_gw(gw), '-inf', '(' .. at)) do
  if not listed[m] then
    redis.call('ZREM', k_gw(gw), m)
    member_gone(m, op_grace, v_grace)
  end
end
-- Closes older than this list are reflected in it; their markers are no longer needed.
redis.call('ZREMRANGEBYSCORE', k_gw_closed(gw), '-inf', '(' .. at)
local added_operator = false
for _, m in ipairs(members) do
  if not redis.call('ZSCORE', k_gw(gw), m) and not redis.call('ZSCORE', k_gw_closed(gw), m) then
    local kind, id = split_member(m)
    -- A visitor is only listed once its identity is known from a connection event.
    if (kind == 'o' and redis.call('EXISTS', k_op(id)) == 1)
      or (kind == 'v' and redis.call('EXISTS', k_visitor(id)) == 1) then
      redis.call('ZADD', k_gw(gw), at, m)
      if kind == 'o' then
        operator_connected(id, m)
        added_operator = true
      else
        visitor_connected(id, m, nil)
      end
    end
  end
end
if added_operator then assign_queue() end
return finish(true)
