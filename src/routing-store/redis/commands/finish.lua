--[[
Removes an open consultation for good; its vet enters wrap-up or is free at once.
ARGV  1 prefix, 2 consultationId, 3 now (ms), 4 wrapupUntil (ms, '' = none)
KEYS  consultation, consultationProfile, vet (offer holder and assigned vet), deadlines,
      queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), userOpen
Reply JSON {consultation: {d, p}, revokedOfferVetId: number|null, waiting: number} | 'null'
]]
--- @include "includes/lib"

local cid, now = ARGV[2], tonumber(ARGV[3])
local wrapupUntil = nil
if ARGV[4] ~= '' then wrapupUntil = tonumber(ARGV[4]) end
local c, d, p = getC(cid)
if not c then return 'null' end
local revoked = 'null'
if not isnull(c.offer) then
  revoked = tostring(c.offer.vetId)
  local holder = getV(c.offer.vetId)
  if holder and holder.offerConsultationId == cid then
    holder.offerConsultationId = NULL
    putV(holder)
  end
end
if c.status == 'active' and not isnull(c.vetId) then
  local v = getV(c.vetId)
  if v then
    dropActive(v, c)
    if wrapupUntil == nil then
      if #v.activeConsultationIds == 0 and isnull(v.wrapupUntil) then v.idleSince = now end
    else
      local prev = 0
      if not isnull(v.wrapupUntil) then prev = v.wrapupUntil end
      v.wrapupUntil = math.max(prev, wrapupUntil)
      v.wrapupConsultationId = cid
      setDeadline('wrapup', v.vetId, v.wrapupUntil)
    end
    putV(v)
  end
end
delDeadlines(cid, {'offer', 'queue', 'grace'})
redis.call('DEL', K.consultation(cid), K.consultationProfile(cid))
leaveQueue(c)
removeWaiting(c)
local uoKey = K.userOpen(c.appId, c.userId)
if redis.call('GET', uoKey) == cid then redis.call('DEL', uoKey) end
return '{"consultation":' .. jc(d, p) .. ',"revokedOfferVetId":' .. revoked
  .. ',"waiting":' .. redis.call('ZCARD', K.waiting) .. '}'
