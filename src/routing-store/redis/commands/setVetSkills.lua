--[[
Replaces the vet's routing skills (PROTOCOL §4). Kept in the vet's JSON, so snapshot and
the claim scripts read them with the rest of the presence.
ARGV  1 prefix, 2 vetId, 3 skills JSON {species, languages, maxChats}
KEYS  vet(vetId)
Reply 'null' (always; an unknown vet is left alone)
]]
--- @include "includes/lib"

local vetId = tonumber(ARGV[2])
local v = getV(vetId)
if not v then return 'null' end
v.skills = cjson.decode(ARGV[3])
putV(v)
return 'null'
