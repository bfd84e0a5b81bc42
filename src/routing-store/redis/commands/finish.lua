--[[
Removes an open consultation for good; its vet enters wrap-up or is free at once.
ARGV  1 prefix, 2 consultationId, 3 now (ms), 4 wrapupUntil (ms, '' = none)
KEYS  consultation, consultationProfile, vet (offer holder and assigned vet), deadlines,
      queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), userOpen
Reply JSON {consultation: {d, p}, revokedOfferVetId: number|null, waiting: number} | 'null'
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/waiting"
--- @include "includes/referrals"

local cid, now = ARGV[2], tonumber(ARGV[3])
local wrapupUntil = nil
if ARGV[4] ~= '' then wrapupUntil = tonumber(ARGV[4]) end
local c, doc, profile = getConsultation(cid)
if not c then return 'null' end
local revoked = 'null'
if not isNull(c.offer) then
  revoked = tostring(c.offer.vetId)
  local holder = getVet(c.offer.vetId)
  if holder and holder.offerConsultationId == cid then
    holder.offerConsultationId = NULL
    putVet(holder)
  end
end
if c.status == 'active' and not isNull(c.vetId) then
  local v = getVet(c.vetId)
  if v then
    dropActive(v, c)
    if wrapupUntil == nil then
      if #v.activeConsultationIds == 0 and isNull(v.wrapupUntil) then v.idleSince = now end
    else
      local prev = 0
      if not isNull(v.wrapupUntil) then prev = v.wrapupUntil end
      v.wrapupUntil = math.max(prev, wrapupUntil)
      v.wrapupConsultationId = cid
      setDeadline('wrapup', v.vetId, v.wrapupUntil)
    end
    putVet(v)
  end
  -- A warm referral's first vet, still holding it, is free at once.
  local leaving = not isNull(c.leavingVetId) and getVet(c.leavingVetId)
  if leaving then
    releaseHeld(leaving, c, now)
    putVet(leaving)
  end
end
removeDeadlines(cid, {'offer', 'queue', 'grace', 'license'})
redis.call('DEL', Keys.consultation(cid), Keys.consultationProfile(cid))
leaveQueue(c)
removeWaiting(c)
local uoKey = Keys.userOpen(c.appId, c.userId)
if redis.call('GET', uoKey) == cid then redis.call('DEL', uoKey) end
return '{"consultation":' .. consultationReply(doc, profile) .. ',"revokedOfferVetId":' .. revoked
  .. ',"waiting":' .. redis.call('ZCARD', Keys.waiting) .. '}'
