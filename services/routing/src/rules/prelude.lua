-- Shared helpers prepended to every routing script. Each script runs atomically in Redis, so
-- every state change (queue, sessions, operators, presence, timers) is all-or-nothing and two
-- replicas can never interleave halfway through one.
--
-- Keys are built from the prefix passed as ARGV[1]; the scripts target a standalone Redis
-- (or one hash slot), which is what routing is deployed on.

local P = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = now_ms()

local function k_session(chat) return P .. 's:' .. chat end
local function k_op(id) return P .. 'op:' .. id end
local function k_op_chats(id) return P .. 'op:' .. id .. ':chats' end
local function k_op_conns(id) return P .. 'op:' .. id .. ':conns' end
local function k_visitor(uid) return P .. 'v:' .. uid end
local function k_visitor_conns(uid) return P .. 'v:' .. uid .. ':conns' end
local function k_gw(id) return P .. 'gw:' .. id end
-- Closed connections of a gateway, scored with the close time: a heartbeat or connect event
-- older than the close (handled late by another replica) must not bring them back.
local function k_gw_closed(id) return P .. 'gw:' .. id .. ':closed' end
local K_OPS = P .. 'ops'
local K_QUEUE = P .. 'queue'
local K_QPOS = P .. 'queue:published'
local K_TIMERS = P .. 'timers'
local K_GWS = P .. 'gateways'
local K_VISITORS = P .. 'visitors'
local K_OUTBOX = P .. 'outbox'

-- What a script changed, for the service to publish afterwards.
local out = {
  assigned = {},
  unassigned = {},
  closed = {},
  touched_sessions = {},
  touched_ops = {},
  -- Visitors whose online entry changed (arrived, page, profile, chat, left): announced one by
  -- one as presence changes, outside the outbox, so their number never sizes one message.
  visitors = {},
  queue_changed = false,
}

local function touch_session(chat) out.touched_sessions[chat] = true end
local function touch_op(id) out.touched_ops[id] = true end
local function touch_visitor(uid) out.visitors[uid] = true end

local function fail(code, message)
  return redis.error_reply(code .. ' ' .. message)
end

local function hash_to_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function session_of(chat)
  local flat = redis.call('HGETALL', k_session(chat))
  if #flat == 0 then return nil end
  return hash_to_table(flat)
end

local function op_of(id)
  local flat = redis.call('HGETALL', k_op(id))
  if #flat == 0 then return nil end
  return hash_to_table(flat)
end

local function active_count(id) return redis.call('SCARD', k_op_chats(id)) end

local function presence_of(id)
  local op = op_of(id)
  if not op then return nil end
  return {
    id = id,
    name = op.name,
    email = op.email,
    role = op.role,
    status = op.status,
    active_chats = active_count(id),
    max_chats = tonumber(op.max_chats),
    connections = redis.call('SCARD', k_op_conns(id)),
  }
end

local function queue_position(chat)
  local rank = redis.call('ZRANK', K_QUEUE, chat)
  if rank then return rank + 1 end
  return nil
end

local function session_view(chat)
  local s = session_of(chat)
  if not s then return nil end
  s.queue_position = queue_position(chat)
  return s
end

-- Into the queue by its order key: when the chat service stored the visitor's first message
-- (epoch ms), so the queue keeps the order the messages were written in, whichever replica
-- happened to read which message first.
local function enqueue_back(chat, order_key)
  redis.call('ZADD', K_QUEUE, order_key, chat)
  redis.call('HSET', k_session(chat), 'queued_at', NOW)
  out.queue_changed = true
end

-- Far below any order key (epoch ms), so every chat put back at the front scores below zero.
local FRONT_OFFSET = 1e13

-- Front of the queue, ahead of every arrival. Chats put back at the front keep the order the
-- chat service stored their first messages in, among themselves too: scored by their own order
-- key, not by when they came back, so two operators going offline one after the other (in
-- whichever order their grace periods lapse) cannot put a newer chat ahead of an older one.
local function enqueue_front(chats)
  if #chats == 0 then return end
  for _, chat in ipairs(chats) do
    local h = redis.call('HMGET', k_session(chat), 'order_key', 'created_at')
    local key = tonumber(h[1] or '') or tonumber(h[2] or '') or NOW
    redis.call('ZADD', K_QUEUE, key - FRONT_OFFSET, chat)
    redis.call('HSET', k_session(chat), 'queued_at', NOW)
  end
  out.queue_changed = true
end

local function do_assign(chat, op_id, reason, from_id)
  local op = op_of(op_id)
  local s = session_of(chat)
  redis.call('ZREM', K_QUEUE, chat)
  redis.call('HSET', k_session(chat), 'status', 'active', 'operator_id', op_id,
    'operator_name', op.name, 'assigned_at', NOW)
  redis.call('HDEL', k_session(chat), 'declined_by', 'visitor_left_at')
  redis.call('ZREM', K_TIMERS, 'decl|' .. chat)
  redis.call('SADD', k_op_chats(op_id), chat)
  redis.call('HSET', k_op(op_id), 'last_assigned', NOW)
  table.insert(out.assigned, {
    chat_id = chat, operator_id = op_id, operator_name = op.name, reason = reason,
    from_operator_id = from_id or false,
    from_operator_name = (from_id and redis.call('HGET', k_op(from_id), 'name')) or false,
    was_status = s.status,
  })
  out.queue_changed = true
  touch_session(chat)
  touch_op(op_id)
  if from_id then touch_op(from_id) end
end

local function do_unassign(chat, reason, extra)
  local s = session_of(chat)
  if not s or s.status ~= 'active' then return nil end
  redis.call('SREM', k_op_chats(s.operator_id), chat)
  table.insert(out.unassigned, {
    chat_id = chat, operator_id = s.operator_id, operator_name = s.operator_name,
    reason = reason, to_queue = extra and extra.to_queue or false,
  })
  touch_session(chat)
  touch_op(s.operator_id)
  return s
end

local function is_free(op, n)
  return op.status == 'online' and op.account_active == '1' and n < tonumber(op.max_chats)
end

-- Online operators below capacity, with their load and last assignment time.
local function free_operators()
  local list = {}
  for _, id in ipairs(redis.call('SMEMBERS', K_OPS)) do
    local h = redis.call('HMGET', k_op(id), 'status', 'max_chats', 'account_active', 'last_assigned')
    if h[1] == 'online' and h[3] == '1' then
      local n = active_count(id)
      local max = tonumber(h[2])
      if n < max then
        table.insert(list, { id = id, n = n, max = max, last = tonumber(h[4] or '0') or 0 })
      end
    end
  end
  return list
end

-- Fewest active chats first; ties go to whoever waited longest since their last assignment.
local function best_operator(list, exclude)
  local best = nil
  for i, op in ipairs(list) do
    if op.id ~= exclude then
      local b = best and list[best]
      if not b or op.n < b.n or (op.n == b.n and (op.last < b.last or (op.last == b.last and op.id < b.id))) then
        best = i
      end
    end
  end
  return best
end

-- Hands waiting sessions, head first, to free operators until either runs out.
local function assign_queue()
  local free = free_operators()
  if #free == 0 then return end
  for _, chat in ipairs(redis.call('ZRANGE', K_QUEUE, 0, -1)) do
    if #free == 0 then break end
    local h = redis.call('HMGET', k_session(chat), 'declined_by', 'visitor_left_at')
    local declined = h[1] or nil
    -- Nobody is there to read an answer: only taken by hand (see visitor_left).
    local idx = nil
    if not h[2] then idx = best_operator(free, declined) end
    if idx then
      local op = free[idx]
      local reason = 'auto'
      if redis.call('HGET', k_session(chat), 'requeued') == '1' then reason = 'requeue' end
      redis.call('HDEL', k_session(chat), 'requeued')
      do_assign(chat, op.id, reason, nil)
      op.n = op.n + 1
      op.last = NOW
      if op.n >= op.max then table.remove(free, idx) end
    end
  end
end

-- An operator's active sessions go back to the front of the queue, oldest session first.
local function requeue_operator(op_id, reason)
  local chats = redis.call('SMEMBERS', k_op_chats(op_id))
  local sessions = {}
  for _, chat in ipairs(chats) do
    local s = session_of(chat)
    if s then table.insert(sessions, s) end
  end
  table.sort(sessions, function(a, b)
    local qa = tonumber(a.order_key or a.created_at)
    local qb = tonumber(b.order_key or b.created_at)
    if qa == qb then return a.chat_id < b.chat_id end
    return qa < qb
  end)
  local order = {}
  for _, s in ipairs(sessions) do
    do_unassign(s.chat_id, reason)
    redis.call('HSET', k_session(s.chat_id), 'status', 'waiting', 'operator_id', '', 'operator_name', '',
      'assigned_at', '', 'requeued', '1')
    table.insert(order, s.chat_id)
  end
  enqueue_front(order)
end

local function schedule(member, at)
  redis.call('ZADD', K_TIMERS, at, member)
end
local function cancel(member)
  redis.call('ZREM', K_TIMERS, member)
end

local function go_offline(op_id, reason)
  redis.call('HSET', k_op(op_id), 'status', 'offline')
  cancel('op|' .. op_id)
  requeue_operator(op_id, reason)
  touch_op(op_id)
end

-- ---- presence ----

local function operator_connected(op_id, member)
  if redis.call('EXISTS', k_op(op_id)) == 0 then return end
  redis.call('SADD', k_op_conns(op_id), member)
  cancel('op|' .. op_id)
  local op = op_of(op_id)
  if op and op.status == 'offline' and op.preferred ~= 'offline' and op.account_active == '1' then
    redis.call('HSET', k_op(op_id), 'status', op.preferred)
  end
  touch_op(op_id)
end

local function operator_disconnected(op_id, member, grace_ms)
  redis.call('SREM', k_op_conns(op_id), member)
  local op = op_of(op_id)
  if op and op.status ~= 'offline' and redis.call('SCARD', k_op_conns(op_id)) == 0 then
    schedule('op|' .. op_id, NOW + grace_ms)
  end
  touch_op(op_id)
end

local function visitor_record(uid)
  local raw = redis.call('GET', k_visitor(uid))
  if not raw then return nil end
  return cjson.decode(raw)
end

local VISITOR_TTL_SECONDS = 30 * 24 * 3600

local function save_visitor(uid, rec)
  redis.call('SET', k_visitor(uid), cjson.encode(rec), 'EX', VISITOR_TTL_SECONDS)
end

-- The chat of a visitor whose session waits in the queue, if any.
local function waiting_chat_of(uid)
  local chat = redis.call('GET', P .. 'user_chat:' .. uid)
  if not chat or redis.call('HGET', k_session(chat), 'status') ~= 'waiting' then return nil end
  return chat
end

local function visitor_connected(uid, member, info)
  local rec = visitor_record(uid)
  if not rec then
    if not info then return end
    rec = { user_id = uid, first_seen_at = NOW, visits = 0, pages_seen = {}, online_since = NOW }
  end
  if info then
    rec.identity = info.identity
    rec.user_agent = info.user_agent
    if info.country ~= cjson.null then rec.country = info.country end
  end
  redis.call('SADD', k_visitor_conns(uid), member)
  cancel('v|' .. uid)
  local back = false
  if redis.call('SISMEMBER', K_VISITORS, uid) == 0 then
    redis.call('SADD', K_VISITORS, uid)
    back = true
    if rec.left_at then
      -- Back after leaving: a new visit with its own pages.
      rec.visits = (rec.visits or 0) + 1
      rec.online_since = NOW
      rec.pages_seen = {}
      rec.current_page = nil
      rec.left_at = nil
    elseif (rec.visits or 0) < 1 then
      rec.visits = 1
    end
  end
  save_visitor(uid, rec)
  touch_visitor(uid)
  -- Back while still waiting: the session is routed again.
  local chat = back and waiting_chat_of(uid)
  if chat and redis.call('HEXISTS', k_session(chat), 'visitor_left_at') == 1 then
    redis.call('HDEL', k_session(chat), 'visitor_left_at')
    touch_session(chat)
    out.queue_changed = true
    assign_queue()
  end
end

-- Gone past the grace period. A session still waiting stays in the queue, marked: it is not
-- handed out automatically (nobody would read the answer), an operator may take it when the
-- visitor left an email (the unread-reply email reaches them), and it is routed again when
-- the visitor comes back.
local function visitor_left(uid)
  redis.call('SREM', K_VISITORS, uid)
  local rec = visitor_record(uid)
  if rec then
    rec.left_at = NOW
    save_visitor(uid, rec)
  end
  touch_visitor(uid)
  local chat = waiting_chat_of(uid)
  if chat then
    redis.call('HSET', k_session(chat), 'visitor_left_at', NOW)
    touch_session(chat)
    out.queue_changed = true
  end
end

local function visitor_disconnected(uid, member, grace_ms)
  redis.call('SREM', k_visitor_conns(uid), member)
  if redis.call('SCARD', k_visitor_conns(uid)) == 0 and redis.call('SISMEMBER', K_VISITORS, uid) == 1 then
    schedule('v|' .. uid, NOW + grace_ms)
  end
end

-- Gateway connection members: "o|<operator_id>|<connection_id>" or "v|<user_id>|<connection_id>".
local function split_member(member)
  local kind, id = string.match(member, '^(%a)|([^|]+)|')
  return kind, id
end

local function member_gone(member, op_grace, visitor_grace)
  local kind, id = split_member(member)
  if kind == 'o' then operator_disconnected(id, member, op_grace)
  elseif kind == 'v' then visitor_disconnected(id, member, visitor_grace) end
end

-- ---- queue positions ----

-- Compares queue positions with the ones last published and returns the ones that moved, so
-- each waiting visitor is told their new number exactly when it changes.
local function moved_positions()
  local moved = {}
  local queue = redis.call('ZRANGE', K_QUEUE, 0, -1)
  local published = hash_to_table(redis.call('HGETALL', K_QPOS))
  local current = {}
  for i, chat in ipairs(queue) do
    current[chat] = true
    if published[chat] ~= tostring(i) then
      redis.call('HSET', K_QPOS, chat, i)
      table.insert(moved, chat)
    end
  end
  for chat, _ in pairs(published) do
    if not current[chat] then redis.call('HDEL', K_QPOS, chat) end
  end
  return moved
end

local function queue_view()
  local list = {}
  for i, chat in ipairs(redis.call('ZRANGE', K_QUEUE, 0, -1)) do
    local s = session_of(chat)
    if s then
      s.queue_position = i
      table.insert(list, s)
    end
  end
  return list
end

-- Serializes what changed (sessions, operators, queue) for the caller to publish.
local function finish(result)
  for _, chat in ipairs(moved_positions()) do touch_session(chat) end
  local sessions = {}
  for chat, _ in pairs(out.touched_sessions) do
    local v = session_view(chat)
    if v then table.insert(sessions, v) end
  end
  local ops = {}
  for id, _ in pairs(out.touched_ops) do
    local p = presence_of(id)
    if p then table.insert(ops, p) end
  end
  local visitors = {}
  for uid, _ in pairs(out.visitors) do
    local online = redis.call('SISMEMBER', K_VISITORS, uid) == 1
    local rec = false
    if online then
      rec = visitor_record(uid) or false
      if rec then rec.chat_id = redis.call('GET', P .. 'user_chat:' .. uid) or false end
    end
    table.insert(visitors, { user_id = uid, online = online and rec ~= false, visitor = rec })
  end
  local response = {
    result = result or false,
    assigned = out.assigned,
    unassigned = out.unassigned,
    closed = out.closed,
    sessions = sessions,
    operators = ops,
    visitors = visitors,
    visitors_online = #visitors > 0 and redis.call('SCARD', K_VISITORS) or 0,
  }
  if out.queue_changed then response.queue = queue_view() end
  local encoded = cjson.encode(response)
  -- The outbox: what changed is recorded in the same atomic step as the change, so a replica
  -- crashing right after still gets it published (by whichever replica relays the outbox).
  if #out.assigned > 0 or #out.unassigned > 0 or #out.closed > 0 or #sessions > 0 or #ops > 0
    or out.queue_changed then
    redis.call('XADD', K_OUTBOX, '*', 'changes', encoded)
  end
  return encoded
end
