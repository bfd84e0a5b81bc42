--[[
Ends the vet's wrap-up: free again from now.
ARGV  1 prefix, 2 vetId, 3 now (ms)
KEYS  vet(vetId), deadlines
Reply JSON VetPresence | 'null' (unknown vet)
]]
--- @include "includes/json"
--- @include "includes/vets"
--- @include "includes/deadlines"

local vetId, now = tonumber(ARGV[2]), tonumber(ARGV[3])
local v, s = getVet(vetId)
if not v then return 'null' end
if isNull(v.wrapupUntil) then return s end
v.wrapupUntil = NULL
v.wrapupConsultationId = NULL
v.idleSince = now
removeDeadlines(vetId, {'wrapup'})
return putVet(v)
