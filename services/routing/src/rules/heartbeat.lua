-- A gateway lists all its live connections: anything it no longer lists is gone, anything new
-- is added (this also rebuilds presence after Redis lost it). A long list comes in parts (each
-- fits a NATS message); what is missing is only known once every part of the report arrived.
-- ARGV: prefix, gateway_id, members_json (array), operator_grace_ms, visitor_grace_ms, at_ms,
--       report_id ('' when the list is whole), parts
local gw, members = ARGV[2], cjson.decode(ARGV[3])
local op_grace, v_grace, at = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local report, parts = ARGV[7] or '', tonumber(ARGV[8] or '1')
redis.call('ZADD', K_GWS, NOW, gw)
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
local listed = {}
local complete = true
if report == '' then
  for _, m in ipairs(members) do listed[m] = true end
else
  -- The parts seen so far; a report whose last part never comes expires unreconciled.
  local k_seen = P .. 'gw:' .. gw .. ':report:' .. report
  local k_parts = k_seen .. ':parts'
  for i = 1, #members, 1000 do
    redis.call('SADD', k_seen, unpack(members, i, math.min(i + 999, #members)))
  end
  local got = redis.call('INCR', k_parts)
  redis.call('PEXPIRE', k_seen, 300000)
  redis.call('PEXPIRE', k_parts, 300000)
  complete = got >= parts
  if complete then
    for _, m in ipairs(redis.call('SMEMBERS', k_seen)) do listed[m] = true end
    redis.call('DEL', k_seen, k_parts)
  end
end
if complete then
  -- Only connections opened before this list was taken can be missing from it.
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', k_gw(gw), '-inf', '(' .. at)) do
    if not listed[m] then
      redis.call('ZREM', k_gw(gw), m)
      member_gone(m, op_grace, v_grace)
    end
  end
  -- Closes older than this list are reflected in it; their markers are no longer needed.
  redis.call('ZREMRANGEBYSCORE', k_gw_closed(gw), '-inf', '(' .. at)
end
if added_operator then assign_queue() end
return finish(true)
