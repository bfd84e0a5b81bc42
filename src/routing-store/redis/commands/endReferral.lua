--[[
Withdraws the consultation's pending referral: its entry leaves the queue with its deadlines,
and the vet holding the entry's offer no longer does.
ARGV  1 prefix, 2 consultationId
KEYS  consultation, consultationProfile, entry and its profile, vet (the offer's holder), deadlines,
      queue, appQueued, queueClass('t'), waiting, waitingSpecies, urgent('t'), urgentSpecies('t', species)
Reply JSON {consultation: {d, p}, referral: Referral, revokedOffer: {vetId, offeredAt, expiresAt} | null}
          | 'null' (no referral pending)
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/referrals"

local cid = ARGV[2]
local c, _, profile = getConsultation(cid)
if not c or isNull(c.referral) then return 'null' end
local referral = cjson.encode(c.referral)
c.referral = NULL
local doc = putConsultation(c)
local revoked = 'null'
local e = getConsultation(referralEntryId(cid))
if e then
  if not isNull(e.offer) then
    revoked = cjson.encode(e.offer)
    local holder = getVet(e.offer.vetId)
    if holder and holder.offerConsultationId == e.id then
      holder.offerConsultationId = NULL
      putVet(holder)
    end
  end
  dropEntry(e)
end
return '{"consultation":' .. consultationReply(doc, profile) .. ',"referral":' .. referral .. ',"revokedOffer":' .. revoked .. '}'
