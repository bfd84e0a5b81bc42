--[[
Sets the live-state epoch marker after a rebuild and releases the rebuild lock, only while
this caller holds the lock. Not held (Redis lost its data again during the rebuild, or the
lock ran out and another node took it): nothing is set, the rebuild is not complete here.
ARGV  1 prefix, 2 epoch, 3 lock token
KEYS  epoch, rebuildLock
Reply 'true' | 'false' (JSON)
]]
--- @include "includes/keys"

if redis.call('GET', Keys.rebuildLock) ~= ARGV[3] then return 'false' end
redis.call('SET', Keys.epoch, ARGV[2])
redis.call('DEL', Keys.rebuildLock)
return 'true'
