-- A gateway reports one connection opened or closed.
-- ARGV: prefix, gateway_id, member, connected ('1'/'0'), visitor_info_json ('' for operators),
--       operator_grace_ms, visitor_grace_ms, at_ms (the gateway's time of the event)
local gw, member, connected, info_json = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local op_grace, v_grace, at = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local kind, id = split_member(member)
if connected then
  if kind == 'o' and redis.call('EXISTS', k_op(id)) == 0 then return finish(false) end
  if redis.call('ZSCORE', k_gw_closed(gw), member) then return finish(false) end
  -- Scored with the gateway's time, so an older heartbeat cannot drop a newer connection.
  redis.call('ZADD', k_gw(gw), at, member)
  redis.call('ZADD', K_GWS, 'NX', NOW, gw)
  if kind == 'o' then
    operator_connected(id, member)
    assign_queue()
  else
    local info = nil
    if info_json ~= '' then info = cjson.decode(info_json) end
    visitor_connected(id, member, info)
  end
else
  redis.call('ZADD', k_gw_closed(gw), at, member)
  if redis.call('ZREM', k_gw(gw), member) == 1 then member_gone(member, op_grace, v_grace) end
end
return finish(true)
