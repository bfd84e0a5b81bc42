--[[
The vet accepts the offer it holds (idempotent once active with that vet).
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 now (ms), 5 channelSid ('' = none)
KEYS  consultation, consultationProfile, vet(vetId), deadlines, queue, appQueued, queueClass(class)
A referral entry's offer (referralOf set, PROTOCOL §10) hands its consultation to the vet
instead, only while that consultation is active with the referral's first vet: the entry is
gone; cold, the first vet lets go; warm, it stays as leavingVetId.
KEYS (referral) also the referred consultation, its profile, the first vet, queueClass('t'), waiting indexes
Reply JSON {ok: true, alreadyActive: boolean, consultation: {d, p}, offer?: {vetId, offeredAt, expiresAt},
            referral?: {fromVetId, referral}}
          | {ok: false, reason: 'no_offer' | 'expired'}
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/referrals"

local cid, vetId, now, channelSid = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local c, doc, profile = getConsultation(cid)
if c and c.status == 'active' and c.vetId == vetId then
  return '{"ok":true,"alreadyActive":true,"consultation":' .. consultationReply(doc, profile) .. '}'
end
if not c or c.status ~= 'offered' or isNull(c.offer) or c.offer.vetId ~= vetId then
  return '{"ok":false,"reason":"no_offer"}'
end
if c.offer.expiresAt <= now then return '{"ok":false,"reason":"expired"}' end
local v = getVet(vetId)
if not v then return '{"ok":false,"reason":"no_offer"}' end
if not isNull(c.referralOf) then
  local o, _, oprofile = getConsultation(c.referralOf)
  if not o or isNull(o.referral) or o.status ~= 'active' or o.vetId ~= o.referral.fromVetId or o.vetId == vetId then
    return '{"ok":false,"reason":"no_offer"}'
  end
  local ref = o.referral
  local resolved = cjson.encode(c.offer)
  v.offerConsultationId = NULL
  dropEntry(c)
  if ref.mode == 'cold' then
    local from = getVet(ref.fromVetId)
    if from then
      releaseHeld(from, o, now)
      putVet(from)
    end
    o.leavingVetId = NULL
  else
    o.leavingVetId = ref.fromVetId
  end
  o.vetId = vetId
  o.referral = NULL
  holdActive(v, o)
  putVet(v)
  return '{"ok":true,"alreadyActive":false,"consultation":' .. consultationReply(putConsultation(o), oprofile)
    .. ',"offer":' .. resolved .. ',"referral":{"fromVetId":' .. ref.fromVetId .. ',"referral":' .. cjson.encode(ref) .. '}}'
end
-- The resolved offer goes back to the caller, for revertAccept when the durable write fails.
local offer = cjson.encode(c.offer)
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
if channelSid ~= '' and isNull(c.channelSid) then c.channelSid = channelSid end
v.offerConsultationId = NULL
holdActive(v, c)
putVet(v)
-- Taken: its care is settled (an undone accept does not bring the advice fallback back).
c.careDeadline = NULL
removeDeadlines(cid, {'offer', 'queue', 'grace', 'license'})
leaveQueue(c)
return '{"ok":true,"alreadyActive":false,"consultation":' .. consultationReply(putConsultation(c), profile) .. ',"offer":' .. offer .. '}'
