-- The widget reported the page the visitor is on.
-- ARGV: prefix, user_id, page_json, timezone ('' when unknown), at_ms
local uid, page, tz, at = ARGV[2], cjson.decode(ARGV[3]), ARGV[4], tonumber(ARGV[5])
-- The page view may be handled before the connection that preceded it (another replica).
local rec = visitor_record(uid) or { user_id = uid, first_seen_at = NOW, visits = 0, online_since = NOW }
page.at = at
rec.current_page = page
local seen = rec.pages_seen or {}
if seen[1] == nil then seen = {} end
table.insert(seen, page)
while #seen > 50 do table.remove(seen, 1) end
rec.pages_seen = seen
if tz ~= '' then rec.timezone = tz end
save_visitor(uid, rec)
if redis.call('SISMEMBER', K_VISITORS, uid) == 1 then touch_visitor(uid) end
return finish(true)
