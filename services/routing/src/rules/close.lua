-- Closes the chat's open session. The visitor writing again opens a new one.
-- ARGV: prefix, chat_id, actor_kind ('visitor'|'operator'|'system'), actor_id, actor_is_admin, actor_name
local chat, kind, actor, is_admin, actor_name = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6]
local s = session_of(chat)
if not s then return fail('not_found', 'No session for this chat') end
if s.status == 'closed' then return fail('conflict', 'This chat is already closed') end
if kind == 'visitor' and actor ~= s.user_id then return fail('forbidden', 'Not your chat') end
if kind == 'operator' and not is_admin and actor ~= s.operator_id then
  return fail('forbidden', 'Only the assigned operator or an admin can close this chat')
end
if s.status == 'waiting' then
  redis.call('ZREM', K_QUEUE, chat)
  out.queue_changed = true
else
  do_unassign(chat, 'closed')
end
redis.call('HSET', k_session(chat), 'status', 'closed', 'closed_at', NOW, 'operator_id', s.operator_id)
redis.call('HDEL', k_session(chat), 'declined_by', 'requeued')
table.insert(out.closed, { chat_id = chat, by_kind = kind, by_name = actor_name })
touch_session(chat)
assign_queue()
return finish(true)
