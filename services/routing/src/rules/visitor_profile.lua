-- The visitor's profile changed in the chat store (name or email given in the widget).
-- ARGV: prefix, user_id, name ('' for none), email ('' for none), identified ('1'/'0')
local uid, name, email, identified = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local rec = visitor_record(uid)
if not rec then return finish(false) end
local identity = rec.identity or { user_id = uid }
if name ~= '' then identity.name = name else identity.name = cjson.null end
if email ~= '' then identity.email = email else identity.email = cjson.null end
identity.identified = identified
rec.identity = identity
save_visitor(uid, rec)
if redis.call('SISMEMBER', K_VISITORS, uid) == 1 then touch_visitor(uid) end
local chat = redis.call('GET', P .. 'user_chat:' .. uid)
if chat then
  local s = session_of(chat)
  if s and s.status ~= 'closed' then
    redis.call('HSET', k_session(chat), 'user_name', name, 'user_email', email)
    if s.status == 'waiting' then out.queue_changed = true end
  end
end
return finish(true)
