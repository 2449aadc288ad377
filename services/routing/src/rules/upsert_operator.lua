-- The operator's account as the chat service holds it (name, capacity, active flag).
-- ARGV: prefix, id, name, email, role, max_chats, active ('1'/'0')
local id, name, email, role, max, active = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local existed = redis.call('EXISTS', k_op(id)) == 1
redis.call('SADD', K_OPS, id)
redis.call('HSET', k_op(id), 'id', id, 'name', name, 'email', email, 'role', role, 'max_chats', max,
  'account_active', active)
if not existed then
  redis.call('HSET', k_op(id), 'status', 'offline', 'preferred', 'online', 'last_assigned', 0)
end
touch_op(id)
if active ~= '1' and redis.call('HGET', k_op(id), 'status') ~= 'offline' then
  go_offline(id, 'offline')
end
-- Raised capacity (or a renamed operator) may free a slot for the queue head.
assign_queue()
return finish(presence_of(id))
