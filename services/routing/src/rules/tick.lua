-- Run by every replica periodically: fires due grace-period timers and expires gateways that
-- stopped heartbeating. Claiming and acting happen in this one script, so each timer fires once.
-- ARGV: prefix, gateway_timeout_ms, operator_grace_ms, visitor_grace_ms
local gw_timeout, op_grace, v_grace = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _, gw in ipairs(redis.call('ZRANGEBYSCORE', K_GWS, '-inf', NOW - gw_timeout)) do
  for _, m in ipairs(redis.call('ZRANGE', k_gw(gw), 0, -1)) do member_gone(m, op_grace, v_grace) end
  redis.call('DEL', k_gw(gw), k_gw_closed(gw))
  redis.call('ZREM', K_GWS, gw)
end
local reassign = false
for _, timer in ipairs(redis.call('ZRANGEBYSCORE', K_TIMERS, '-inf', NOW)) do
  redis.call('ZREM', K_TIMERS, timer)
  local kind, id = string.match(timer, '^(%a+)|(.+)$')
  if kind == 'op' then
    local op = op_of(id)
    if op and op.status ~= 'offline' and redis.call('SCARD', k_op_conns(id)) == 0 then
      go_offline(id, 'offline')
      reassign = true
    end
  elseif kind == 'decl' then
    -- Nobody else took the returned chat in time: the operator who returned it may get it too.
    if redis.call('HGET', k_session(id), 'status') == 'waiting' then
      redis.call('HDEL', k_session(id), 'declined_by')
      reassign = true
    end
  elseif kind == 'v' then
    if redis.call('SCARD', k_visitor_conns(id)) == 0 then
      visitor_left(id)
    end
  end
end
if reassign then assign_queue() end
return finish(true)
