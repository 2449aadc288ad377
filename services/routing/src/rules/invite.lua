-- An operator invited a browsing visitor: the chat's session is assigned to that operator.
-- ARGV: prefix, chat_id, user_id, operator_id, new_session_id, user_name, user_email
local chat, uid, op_id, new_id, uname, uemail = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local op = op_of(op_id)
if not op or op.account_active ~= '1' then return fail('forbidden', 'Unknown or deactivated operator') end
if op.status == 'offline' then return fail('conflict', 'Go online before inviting visitors') end
redis.call('SET', P .. 'user_chat:' .. uid, chat)
if redis.call('SISMEMBER', K_VISITORS, uid) == 1 then touch_visitor(uid) end
local s = session_of(chat)
if s and s.status == 'active' then
  if s.operator_id == op_id then return finish(true) end
  return fail('conflict', 'This visitor is already chatting with ' .. s.operator_name)
end
if active_count(op_id) >= tonumber(op.max_chats) then
  return fail('conflict', 'You already have as many chats as your capacity allows')
end
if not s or s.status == 'closed' then
  redis.call('DEL', k_session(chat))
  redis.call('HSET', k_session(chat), 'id', new_id, 'chat_id', chat, 'user_id', uid, 'status', 'waiting',
    'operator_id', '', 'operator_name', '', 'created_at', NOW, 'assigned_at', '', 'closed_at', '',
    'user_name', uname, 'user_email', uemail, 'preview', '')
end
do_assign(chat, op_id, 'invitation', nil)
return finish(true)
