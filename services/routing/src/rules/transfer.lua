-- Hands an active chat to another operator, or back to the queue (target '').
-- ARGV: prefix, chat_id, actor_operator_id ('' for system), actor_is_admin ('1'/'0'), target, force,
--       return_grace_ms
local chat, actor, is_admin, target, force = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5], ARGV[6] == '1'
local return_grace = tonumber(ARGV[7])
local s = session_of(chat)
if not s then return fail('not_found', 'No session for this chat') end
if s.status ~= 'active' then return fail('conflict', 'Only an active chat can be transferred') end
if actor ~= '' and actor ~= s.operator_id and not is_admin then
  return fail('forbidden', 'Only the assigned operator or an admin can transfer this chat')
end
local from = s.operator_id
if target == '' then
  do_unassign(chat, 'transferred', { to_queue = true })
  redis.call('HSET', k_session(chat), 'status', 'waiting', 'operator_id', '', 'operator_name', '',
    'assigned_at', '', 'declined_by', from)
  -- "Someone else, please" holds only for a while: then any free operator may take it.
  schedule('decl|' .. chat, NOW + return_grace)
  enqueue_front({ chat })
  assign_queue()
  return finish(true)
end
if target == from then return fail('conflict', 'The chat is already assigned to this operator') end
local op = op_of(target)
if not op or op.account_active ~= '1' then return fail('not_found', 'Unknown or deactivated operator') end
if op.status ~= 'online' then return fail('conflict', op.name .. ' is not online') end
if active_count(target) >= tonumber(op.max_chats) and not (force and is_admin) then
  return fail('conflict', op.name .. ' is at capacity; only an admin can force the transfer')
end
do_unassign(chat, 'transferred', { to_queue = false })
do_assign(chat, target, 'transfer', from)
assign_queue()
return finish(true)
