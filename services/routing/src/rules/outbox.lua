-- The outbox relay's lease and cursor. One replica at a time relays, so events keep their order.
-- ARGV: prefix, action ('lease'|'release'|'advance'), holder, ttl_ms, entry_id
local action, holder, ttl, entry = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local K_LEASE = P .. 'outbox:lease'
local K_CURSOR = P .. 'outbox:cursor'
local current = redis.call('GET', K_LEASE)
if action == 'lease' then
  if not current then
    redis.call('SET', K_LEASE, holder, 'PX', ttl)
    return 1
  end
  if current == holder then
    redis.call('PEXPIRE', K_LEASE, ttl)
    return 1
  end
  return 0
end
if action == 'release' then
  if current == holder then redis.call('DEL', K_LEASE) end
  return 1
end
if action == 'advance' then
  if current ~= holder then return 0 end
  redis.call('SET', K_CURSOR, entry)
  redis.call('PEXPIRE', K_LEASE, ttl)
  -- Entries up to the cursor are published; keep the stream short.
  redis.call('XTRIM', K_OUTBOX, 'MINID', entry)
  return 1
end
if action == 'cursor' then
  return redis.call('GET', K_CURSOR) or '0-0'
end
return redis.error_reply('bad_request unknown outbox action ' .. action)
