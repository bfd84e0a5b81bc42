--[[
A warm referral's first vet leaves the consultation (consult:leave): free again from now
when it holds nothing else.
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 now (ms)
KEYS  consultation, consultationProfile, vet(vetId)
Reply JSON {consultation: {d, p}, presence: VetPresence | null} | 'null' (vetId is not its leaving vet)
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/referrals"

local cid, vetId, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local c, _, profile = getConsultation(cid)
if not c or c.status ~= 'active' or isNull(c.leavingVetId) or c.leavingVetId ~= vetId then return 'null' end
c.leavingVetId = NULL
local vdoc = 'null'
local v = getVet(vetId)
if v then
  releaseHeld(v, c, now)
  vdoc = putVet(v)
end
return '{"consultation":' .. consultationReply(putConsultation(c), profile) .. ',"presence":' .. vdoc .. '}'
