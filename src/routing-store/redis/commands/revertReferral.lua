--[[
Undoes a referral's accept whose durable write failed (record first, PROTOCOL §6, §10): the
consultation, held by vetId as that accept left it, is the referral's first vet's again (held
again when cold) with its referral pending; its entry is offered to vetId again with the offer
(and its offer deadline), or waits (vetId not excluded) when vetId holds another offer by now.
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 referral JSON, 5 offeredAt (ms), 6 expiresAt (ms),
      7 species ('' = the pet's), 8 language ('' = none), 9 now (ms)
KEYS  consultation, consultationProfile, vet(vetId), vet(first vet), entry and its profile, seq, deadlines,
      queue, appQueued, queueClass('t'), waiting, waitingSpecies, urgent('t'), urgentSpecies('t', species)
Reply JSON "offered" | "queued" | null (not as that accept left it: nothing changed)
]]
--- @include "includes/json"
--- @include "includes/lists"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/waiting"
--- @include "includes/referrals"

local cid, vetId, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[9])
local referral = cjson.decode(ARGV[4])
local c, _, profile = getConsultation(cid)
if not c or c.status ~= 'active' or c.vetId ~= vetId or not isNull(c.referral) then return 'null' end
local warm = referral.mode ~= 'cold'
if warm and c.leavingVetId ~= referral.fromVetId then return 'null' end
if not warm and not isNull(c.leavingVetId) then return 'null' end
local v = getVet(vetId)
if v then releaseHeld(v, c, now) end
local from = getVet(referral.fromVetId) or newVet(referral.fromVetId, now)
if not contains(from.activeConsultationIds, cid) then holdActive(from, c) end
putVet(from)
c.vetId = referral.fromVetId
c.leavingVetId = NULL
c.referral = referral
putConsultation(c)
local e = putEntry(c, profile, referral, ARGV[7], ARGV[8])
if v and isNull(v.offerConsultationId) then
  e.status = 'offered'
  e.offer = { vetId = vetId, offeredAt = tonumber(ARGV[5]), expiresAt = tonumber(ARGV[6]) }
  v.offerConsultationId = e.id
  setDeadline('offer', e.id, e.offer.expiresAt)
  putConsultation(e)
else
  addWaiting(e)
end
if v then putVet(v) end
return cjson.encode(e.status)
