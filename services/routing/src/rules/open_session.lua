-- A visitor wrote: open a session in the queue unless one is open already.
-- ARGV: prefix, chat_id, user_id, user_name, user_email, preview, seq, new_session_id, written_at_ms,
--   offline ('1' when the desk was closed or nobody online: the session is an offline message)
local chat, uid, uname, uemail, preview, seq, new_id, written_at, offline =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]), ARGV[10]

-- Redelivered or older messages change nothing (the durable consumer may deliver twice).
local seen = tonumber(redis.call('GET', P .. 'chat:' .. chat .. ':seq') or '0')
if seq <= seen then return finish({ opened = false, duplicate = true }) end
redis.call('SET', P .. 'chat:' .. chat .. ':seq', seq)
redis.call('SET', P .. 'user_chat:' .. uid, chat)

local s = session_of(chat)
if s and s.status ~= 'closed' then
  redis.call('HSET', k_session(chat), 'user_name', uname, 'user_email', uemail, 'preview', preview)
  if s.status == 'waiting' then out.queue_changed = true end
  return finish({ opened = false, duplicate = false })
end

-- Written before the close but read after it: the visitor was answered in the closed session.
if s and s.closed_at ~= '' and written_at < tonumber(s.closed_at) then
  return finish({ opened = false, duplicate = false })
end

redis.call('DEL', k_session(chat))
redis.call('HSET', k_session(chat), 'id', new_id, 'chat_id', chat, 'user_id', uid, 'status', 'waiting',
  'operator_id', '', 'operator_name', '', 'created_at', NOW, 'assigned_at', '', 'closed_at', '',
  'user_name', uname, 'user_email', uemail, 'preview', preview, 'order_key', written_at,
  'offline', offline == '1' and '1' or '')
enqueue_back(chat, written_at)
touch_session(chat)
assign_queue()
return finish({ opened = true, duplicate = false })
