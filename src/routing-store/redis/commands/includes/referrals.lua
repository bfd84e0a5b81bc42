--[[
Referrals (PROTOCOL §10): a referral's queue entry ({id}~referral, with referralOf) and a
vet letting go of a consultation (src/routing-store/memory/referrals.ts does the same).
]]
--- @include "keys"
--- @include "json"
--- @include "vets"
--- @include "deadlines"
--- @include "queue"
--- @include "waiting"
--- @include "consultations"

local function referralEntryId(cid) return cid .. '~referral' end

-- The entry e leaves the queue for good, with its deadlines.
local function dropEntry(e)
  removeDeadlines(e.id, {'offer', 'queue'})
  redis.call('DEL', Keys.consultation(e.id), Keys.consultationProfile(e.id))
  leaveQueue(e)
  removeWaiting(e)
end

-- Creates the referral entry of c (its profile JSON given) for referral, in the transferred
-- class: species ('' = the pet's) and language ('' = none) as asked. Returns the entry and its JSON.
local function putEntry(c, profile, referral, species, language)
  local e = cjson.decode(cjson.encode(c))
  e.id = referralEntryId(c.id)
  e.status = 'queued'
  e.seq = redis.call('INCR', Keys.seq)
  e.createdAt = referral.requestedAt
  e.queueDeadline = referral.deadline
  e.requestedVetId = referral.toVetId
  e.offer = NULL
  e.excludedVetIds = { referral.fromVetId }
  e.vetId = NULL
  e.acceptedAt = NULL
  e.transferred = true
  if species ~= '' then e.species = species end
  if language ~= '' then e.language = language else e.language = NULL end
  e.adviceFallback = false
  e.careDeadline = NULL
  e.referralOf = c.id
  e.leavingVetId = NULL
  e.referral = referral
  local doc = putConsultation(e)
  redis.call('SET', Keys.consultationProfile(e.id), profile)
  enterQueue(e, queueScore(e))
  setDeadline('queue', e.id, e.queueDeadline)
  return e, doc
end

-- The vet v no longer holds c; free from now when it holds nothing else. The caller saves v.
local function releaseHeld(v, c, now)
  dropActive(v, c)
  if #v.activeConsultationIds == 0 and isNull(v.wrapupUntil) then v.idleSince = now end
end
