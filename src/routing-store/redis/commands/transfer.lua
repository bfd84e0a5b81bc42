--[[
Hands an active consultation back to the queue, ahead of every waiting request (its vet
left or was disabled): same id, no vet, the old vet excluded and no longer holding it.
ARGV  1 prefix, 2 consultationId, 3 now (ms), 4 queueDeadline (ms),
      5 ifVetOffline ('1': only while the vet has no connection | '0')
KEYS  consultation, consultationProfile, vet (the old one), vetConnections, queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species),
      deadlines
Reply JSON {consultation: {d, p}, fromVetId: number, position: number}
          | 'null' (not active, or the vet is connected again with ifVetOffline)
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/lists"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/waiting"
--- @include "includes/referrals"

local cid, now, queueDeadline = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local c, _, profile = getConsultation(cid)
if not c or c.status ~= 'active' or isNull(c.vetId) or not isNull(c.referralOf) then return 'null' end
local fromVetId = c.vetId
if ARGV[5] == '1' and redis.call('HLEN', Keys.vetConnections(fromVetId)) > 0 then return 'null' end
-- The vet lets go, and so does a warm referral's first vet still holding it.
for _, id in ipairs({ fromVetId, c.leavingVetId }) do
  local v = not isNull(id) and getVet(id)
  if v then
    releaseHeld(v, c, now)
    putVet(v)
  end
end
c.leavingVetId = NULL
c.status = 'queued'
c.offer = NULL
c.vetId = NULL
c.acceptedAt = NULL
c.transferred = true
c.queueDeadline = queueDeadline
if not contains(c.excludedVetIds, fromVetId) then table.insert(c.excludedVetIds, fromVetId) end
local doc = putConsultation(c)
local score = queueScore(c)
enterQueue(c, score)
addWaiting(c)
setDeadline('queue', cid, queueDeadline)
return '{"consultation":' .. consultationReply(doc, profile) .. ',"fromVetId":' .. fromVetId .. ',"position":' .. queuePosition(score) .. '}'
