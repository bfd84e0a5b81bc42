--[[
Adds one socket connection of a vet; a vet coming online starts 'away'. Skills, when
given, replace the vet's routing skills in the same step unless the stored ones have a
higher version (takeSkills).
ARGV  1 prefix, 2 vetId, 3 connId, 4 nodeId, 5 now (ms), 6 skills JSON ('' = keep)
KEYS  vetConnections(vetId), nodeVetConnections(old and new node), vet(vetId), vets, vetSeq
Reply JSON VetPresence
]]
--- @include "includes/keys"
--- @include "includes/vets"

local vetId, connId, nodeId, now = tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = Keys.vetConnections(vetId)
local member = vetId .. ':' .. connId
local old = redis.call('HGET', key, connId)
if old and old ~= nodeId then redis.call('SREM', Keys.nodeVetConnections(old), member) end
local before = redis.call('HLEN', key)
redis.call('HSET', key, connId, nodeId)
redis.call('SADD', Keys.nodeVetConnections(nodeId), member)
local v = getVet(vetId) or newVet(vetId, now)
if before == 0 then
  -- Coming online: away until the vet chooses available.
  v.status = 'away'
  v.idleSince = now
end
v.connections = redis.call('HLEN', key)
if ARGV[6] and ARGV[6] ~= '' then takeSkills(v, ARGV[6]) end
return putVet(v)
