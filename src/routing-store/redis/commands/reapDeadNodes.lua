--[[
Cleans up every node whose heartbeat expired strictly before now. Range and cleanup
in one script, so a node reaped by one caller is gone for every other caller.
ARGV  1 prefix, 2 now (ms)
KEYS  nodes, nodeHeartbeat, nodeVetConnections, nodeUserConnections, vetConnections,
      userConnections, vets, vet, consultation, consultationProfile, waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines
Reply JSON array of NodeCleanup (see cleanupNode in includes/nodes.lua)
]]
--- @include "includes/keys"
--- @include "includes/nodes"

local dead = redis.call('ZRANGEBYSCORE', Keys.nodes, '-inf', '(' .. ARGV[2])
local out = {}
for _, nodeId in ipairs(dead) do out[#out + 1] = cleanupNode(nodeId) end
return '[' .. table.concat(out, ',') .. ']'
