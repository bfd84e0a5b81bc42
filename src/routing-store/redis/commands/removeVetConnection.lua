--[[
Removes one vet connection; the last one releases the offer the vet held.
ARGV  1 prefix, 2 vetId, 3 connId, 4 now (ms)
KEYS  vetConnections(vetId), nodeVetConnections(node), vet(vetId),
      consultation, consultationProfile, waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines (on release)
Reply JSON {presence: VetPresence|null, released: {d, p, o}|null}
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/vets"
--- @include "includes/offers"

local vetId, connId = tonumber(ARGV[2]), ARGV[3]
local key = Keys.vetConnections(vetId)
local v, s = getVet(vetId)
local node = redis.call('HGET', key, connId)
if not v or not node then
  return '{"presence":' .. (s or 'null') .. ',"released":null}'
end
redis.call('HDEL', key, connId)
redis.call('SREM', Keys.nodeVetConnections(node), vetId .. ':' .. connId)
local n = redis.call('HLEN', key)
v.connections = n
local rel = nil
if n == 0 and not isNull(v.offerConsultationId) then
  rel = releaseOffer(v.offerConsultationId, vetId, v, false)
end
return '{"presence":' .. putVet(v) .. ',"released":' .. (rel or 'null') .. '}'
