--[[
Returns the vet's offer to the queue with the vet excluded.
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 setAway ('1' | '0')
KEYS  vet(vetId), consultation, consultationProfile, waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines
Reply JSON {d, p, o: the released offer} | 'null' (this vet does not hold this offer)
]]
--- @include "includes/vets"
--- @include "includes/offers"

local cid, vetId = ARGV[2], tonumber(ARGV[3])
local v = getVet(vetId)
local r = releaseOffer(cid, vetId, v, ARGV[4] == '1')
if not r then return 'null' end
if v then putVet(v) end
return r
