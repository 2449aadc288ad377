-- The widget reported the page the visitor is on.
-- ARGV: prefix, user_id, page_json, timezone ('' when unknown), at_ms
local uid, page, tz, at = ARGV[2], cjson.decode(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local rec = visitor_record(uid)
if not rec then return finish(false) end
page.at = at
rec.current_page = page
local seen = rec.pages_seen or {}
table.insert(seen, page)
while #seen > 50 do table.remove(seen, 1) end
rec.pages_seen = seen
if tz ~= '' then rec.timezone = tz end
save_visitor(uid, rec)
out.visitors_changed = redis.call('SISMEMBER', K_VISITORS, uid) == 1
return finish(true)
