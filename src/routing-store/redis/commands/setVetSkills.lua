--[[
Replaces the vet's routing skills (PROTOCOL §4) unless the stored ones have a higher
version (takeSkills). Kept in the vet's JSON, so snapshot and the claim scripts read them
with the rest of the presence. An unknown vet is created offline holding them, so that a
connection which read older skills before this cannot install those.
ARGV  1 prefix, 2 vetId, 3 skills JSON {species, languages, maxChats, licenses, version}
KEYS  vet(vetId), vets, vetSeq
Reply 'null'
]]
--- @include "includes/vets"

local vetId = tonumber(ARGV[2])
-- idleSince 0: reset when the vet comes online (addVetConnection).
local v = getVet(vetId) or newVet(vetId, 0)
takeSkills(v, ARGV[3])
putVet(v)
return 'null'
