--[[
Offers a queued consultation to an eligible, not excluded vet.
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 now (ms), 5 expiresAt (ms), 6 maxConsults
KEYS  consultation, consultationProfile, vet(vetId), waiting, deadlines
Reply JSON {ok: true, consultation: {d, p}}
          | {ok: false, reason: 'consultation_not_queued' | 'vet_not_eligible' | 'vet_excluded'}
]]
--- @include "includes/lib"

local cid, vetId, now, expiresAt, maxConsults =
  ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local c, _, p = getC(cid)
if not c or c.status ~= 'queued' or not isnull(c.offer) then
  return '{"ok":false,"reason":"consultation_not_queued"}'
end
local v = getV(vetId)
if not v or not eligible(v, maxConsults) then return '{"ok":false,"reason":"vet_not_eligible"}' end
if contains(c.excludedVetIds, vetId) then return '{"ok":false,"reason":"vet_excluded"}' end
c.status = 'offered'
c.offer = { vetId = vetId, offeredAt = now, expiresAt = expiresAt }
redis.call('ZREM', K.waiting, cid)
v.offerConsultationId = cid
putV(v)
setDeadline('offer', cid, expiresAt)
return '{"ok":true,"consultation":' .. jc(putC(c), p) .. '}'
