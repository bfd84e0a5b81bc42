--[[
Takes the rebuild lock for ttl ms, or renews it when this token holds it already: a node
whose rebuild failed (the database away) tries again at once instead of waiting out its
own lock while every node waits for the marker.
ARGV  1 prefix, 2 lock token, 3 ttl ms
KEYS  rebuildLock
Reply 'true' | 'false' (JSON)
]]
--- @include "includes/keys"

local held = redis.call('GET', Keys.rebuildLock)
if held and held ~= ARGV[2] then return 'false' end
redis.call('SET', Keys.rebuildLock, ARGV[2], 'PX', ARGV[3])
return 'true'
