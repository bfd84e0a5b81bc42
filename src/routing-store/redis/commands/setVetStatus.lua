--[[
Sets the vet's chosen status; going away releases its offer.
ARGV  1 prefix, 2 vetId, 3 status ('available'|'away'), 4 now (ms)
KEYS  vet(vetId); consultation, consultationProfile, waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines (on release)
Reply JSON {presence: VetPresence|null, released: {d, p, o}|null}
]]
--- @include "includes/json"
--- @include "includes/vets"
--- @include "includes/offers"

local vetId, status, now = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local v = getVet(vetId)
if not v then return '{"presence":null,"released":null}' end
local rel = nil
if status == 'available' and v.status ~= 'available' then v.idleSince = now end
if status == 'away' and not isNull(v.offerConsultationId) then
  rel = releaseOffer(v.offerConsultationId, vetId, v, false)
end
v.status = status
return '{"presence":' .. putVet(v) .. ',"released":' .. (rel or 'null') .. '}'
