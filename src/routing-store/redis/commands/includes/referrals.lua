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

local function referralEntryId(cid) return cid .. '~referral' end

-- The entry e leaves the queue for good, with its deadlines.
local function dropEntry(e)
  removeDeadlines(e.id, {'offer', 'queue'})
  redis.call('DEL', Keys.consultation(e.id), Keys.consultationProfile(e.id))
  leaveQueue(e)
  removeWaiting(e)
end

-- The vet v no longer holds c; free from now when it holds nothing else. The caller saves v.
local function releaseHeld(v, c, now)
  dropActive(v, c)
  if #v.activeConsultationIds == 0 and isNull(v.wrapupUntil) then v.idleSince = now end
end
