--[[
Cleans up a node that is shutting down on purpose (same as a dead node).
ARGV  1 prefix, 2 nodeId
KEYS  as reapDeadNodes
Reply JSON NodeCleanup {nodeId, offlineVetIds, released, disconnectedUsers}
]]
--- @include "includes/nodes"

return cleanupNode(ARGV[2])