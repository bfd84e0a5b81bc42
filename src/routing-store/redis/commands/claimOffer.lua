--[[
Offers a queued consultation to a vet who can take it (canTake: eligible, not excluded,
species, channel, language window; language not binding for the vet the owner asked for),
unless a request waiting ahead of it in serving order could go to this vet (the plan was
stale). The order check reads the head of the queue for this vet (headOf: of the species it
treats, QUEUE_HEAD_LIMIT waiting and as many of each urgent class).
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 now (ms), 5 expiresAt (ms), 6 maxConsults,
      7 languageWaitMs, 8 priorityAgingMs
KEYS  consultation, consultationProfile, vet(vetId), waiting, waitingSpecies and urgentSpecies (each class) of each
      species the vet treats and of '' (or urgent of each class), consultation(each head id),
      deadlines
Reply JSON {ok: true, consultation: {d, p}}
          | {ok: false, reason: 'consultation_not_queued' | 'vet_not_eligible' | 'vet_excluded' | 'out_of_order'}
]]
--- @include "includes/json"
--- @include "includes/lists"
--- @include "includes/rules"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/waiting"
--- @include "includes/queueHead"

local cid, vetId, now, expiresAt = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local rules = rulesFromArgv(6)
local c, _, profile = getConsultation(cid)
if not c or c.status ~= 'queued' or not isNull(c.offer) then
  return '{"ok":false,"reason":"consultation_not_queued"}'
end
local v = getVet(vetId)
if not v or not isEligible(v, rules.maxConsults) then return '{"ok":false,"reason":"vet_not_eligible"}' end
if contains(c.excludedVetIds, vetId) then return '{"ok":false,"reason":"vet_excluded"}' end
if not canTake(v, c, now, rules, c.requestedVetId == vetId) then return '{"ok":false,"reason":"vet_not_eligible"}' end
-- The order check reads the head of the queue: a bounded cost per claim however long the
-- queue (memory/store.ts has the same bound).
local ids = {}
for _, e in ipairs((headOf(function() return { v } end))) do ids[#ids + 1] = e.id end
local compare = queueComparator(now, rules.priorityAgingMs)
for _, other in ipairs(consultationsOf(ids)) do
  if other.id ~= cid and other.status == 'queued' and compare(other, c) < 0
    and canTake(v, other, now, rules, other.requestedVetId == vetId) then
    return '{"ok":false,"reason":"out_of_order"}'
  end
end
c.status = 'offered'
c.offer = { vetId = vetId, offeredAt = now, expiresAt = expiresAt }
removeWaiting(c)
v.offerConsultationId = cid
putVet(v)
setDeadline('offer', cid, expiresAt)
return '{"ok":true,"consultation":' .. consultationReply(putConsultation(c), profile) .. '}'
