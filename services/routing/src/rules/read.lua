-- Consistent read-only snapshots.
-- ARGV: prefix, what ('session'|'queue'|'operators'|'operator'|'visitors'|'online_visitor'|'user_chat'), arg
local what, arg = ARGV[2], ARGV[3]
if what == 'session' then return cjson.encode({ session = session_view(arg) or false }) end
if what == 'queue' then return cjson.encode({ queue = queue_view() }) end
if what == 'operators' then
  local list = {}
  for _, id in ipairs(redis.call('SMEMBERS', K_OPS)) do
    local p = presence_of(id)
    if p and redis.call('HGET', k_op(id), 'account_active') == '1' then table.insert(list, p) end
  end
  return cjson.encode({ operators = list })
end
if what == 'operator' then
  local sessions = {}
  for _, chat in ipairs(redis.call('SMEMBERS', k_op_chats(arg))) do
    local v = session_view(chat)
    if v then table.insert(sessions, v) end
  end
  return cjson.encode({ operator = presence_of(arg) or false, sessions = sessions })
end
if what == 'visitors' then
  local list = {}
  for _, uid in ipairs(redis.call('SMEMBERS', K_VISITORS)) do
    local rec = visitor_record(uid)
    if rec then
      rec.chat_id = redis.call('GET', P .. 'user_chat:' .. uid) or false
      table.insert(list, rec)
    end
  end
  return cjson.encode({ visitors = list, now = NOW })
end
if what == 'online_visitor' then
  local rec = redis.call('SISMEMBER', K_VISITORS, arg) == 1 and visitor_record(arg)
  if rec then rec.chat_id = redis.call('GET', P .. 'user_chat:' .. arg) or false end
  return cjson.encode({ visitor = rec or false })
end
if what == 'user_chat' then
  local chat = redis.call('GET', P .. 'user_chat:' .. arg)
  local rec = visitor_record(arg)
  return cjson.encode({ chat_id = chat or false, visitor = rec or false })
end
return redis.error_reply('bad_request unknown read ' .. what)
