--[[
Sets the live-state epoch marker after a rebuild and releases the rebuild lock if this
caller still holds it.
ARGV  1 prefix, 2 epoch, 3 lock token
KEYS  epoch, rebuildLock
Reply 'true' (JSON)
]]
--- @include "includes/lib"

redis.call('SET', K.epoch, ARGV[2])
if redis.call('GET', K.rebuildLock) == ARGV[3] then redis.call('DEL', K.rebuildLock) end
return 'true'
