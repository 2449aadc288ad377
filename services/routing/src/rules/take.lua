-- An operator takes a specific waiting chat by hand. Of concurrent takes exactly one wins.
-- ARGV: prefix, chat_id, operator_id
local chat, op_id = ARGV[2], ARGV[3]
local s = session_of(chat)
if not s then return fail('not_found', 'No session for this chat') end
if s.status ~= 'waiting' then return fail('conflict', 'This chat is no longer waiting in the queue') end
local op = op_of(op_id)
if not op or op.account_active ~= '1' then return fail('forbidden', 'Unknown or deactivated operator') end
if op.status == 'offline' then return fail('conflict', 'Go online or away before taking chats') end
if active_count(op_id) >= tonumber(op.max_chats) then
  return fail('conflict', 'You already have as many chats as your capacity allows')
end
if s.visitor_left_at and (s.user_email or '') == '' then
  return fail('conflict', 'The visitor left without an email address: nobody would read a reply')
end
redis.call('HDEL', k_session(chat), 'requeued')
do_assign(chat, op_id, 'manual', nil)
return finish(true)
