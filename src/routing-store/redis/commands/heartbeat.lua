--[[
Marks a node alive until expiresAt; says whether it was registered before.
ARGV  1 prefix, 2 nodeId, 3 expiresAt (ms), 4 now (ms), 5 ttlMs (0 = no node:{id} key)
KEYS  nodes, nodeHeartbeat(nodeId)
Reply 'true' | 'false' (JSON): known before this call
]]
--- @include "includes/keys"

local known = redis.call('ZSCORE', Keys.nodes, ARGV[2])
redis.call('ZADD', Keys.nodes, ARGV[3], ARGV[2])
if tonumber(ARGV[5]) > 0 then redis.call('SET', Keys.nodeHeartbeat(ARGV[2]), ARGV[4], 'PX', ARGV[5]) end
if known then return 'true' end
return 'false'
