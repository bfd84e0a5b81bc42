--[[
Puts a vet back in wrap-up after a consultation until a time (at least), with its deadline.
ARGV  1 prefix, 2 vetId, 3 consultationId, 4 until (ms)
KEYS  vet(vetId), vets, vetSeq, deadlines
Reply 'true' | 'false' (JSON): false when the vet was in wrap-up that long already
]]
--- @include "includes/json"
--- @include "includes/vets"
--- @include "includes/deadlines"

local vetId, cid, untilMs = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local v = getVet(vetId) or newVet(vetId, untilMs)
if not isNull(v.wrapupUntil) and v.wrapupUntil >= untilMs then return 'false' end
v.wrapupUntil = untilMs
v.wrapupConsultationId = cid
setDeadline('wrapup', vetId, untilMs)
putVet(v)
return 'true'
