--[[
Sets the vet's chosen status; going away releases its offer.
ARGV  1 prefix, 2 vetId, 3 status ('available'|'away'), 4 now (ms)
KEYS  vet(vetId); consultation, consultationProfile, waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines (on release)
Reply JSON {presence: VetPresence|null, released: {d, p, o}|null}
]]
--- @include "includes/lib"

local vetId, status, now = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local v = getV(vetId)
if not v then return '{"presence":null,"released":null}' end
local rel = nil
if status == 'available' and v.status ~= 'available' then v.idleSince = now end
if status == 'away' and not isnull(v.offerConsultationId) then
  rel = release(v.offerConsultationId, vetId, v, false)
end
v.status = status
return '{"presence":' .. putV(v) .. ',"released":' .. (rel or 'null') .. '}'
