-- The operator chose a status. Offline hands their chats back to the queue.
-- ARGV: prefix, operator_id, status, grace_ms
local op_id, status, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
local op = op_of(op_id)
if not op then return fail('not_found', 'Unknown operator') end
if op.account_active ~= '1' and status ~= 'offline' then
  return fail('forbidden', 'This operator account is deactivated')
end
redis.call('HSET', k_op(op_id), 'preferred', status)
touch_op(op_id)
if status == 'offline' then
  if op.status ~= 'offline' then
    go_offline(op_id, 'offline')
    -- Their chats went back to the front of the queue: hand them to free colleagues now.
    assign_queue()
  end
else
  redis.call('HSET', k_op(op_id), 'status', status)
  -- Without a live connection the status lapses after the grace period like any disconnect.
  if redis.call('SCARD', k_op_conns(op_id)) == 0 then schedule('op|' .. op_id, NOW + grace) end
  if status == 'online' then assign_queue() end
end
return finish(presence_of(op_id))
