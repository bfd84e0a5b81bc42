--[[
Puts an open consultation back into live state exactly as given, idempotently: queued (or
offered, which comes back queued) → the queue at its seq with its queue deadline; active →
its vet holds it (a vet unknown here is created offline). Undoes a finish whose durable
write failed; rebuilds live state from the database.
ARGV  1 prefix, 2 consultation JSON (no profile, no seq), 3 profile JSON, 4 seq
KEYS  consultation, consultationProfile, userOpen, seq, queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines, vet(vetId),
      vets, vetSeq
Reply JSON true | false (already there, or its user has another open consultation)
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/lists"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/waiting"

local c = cjson.decode(ARGV[2])
c.seq = tonumber(ARGV[4])
if redis.call('EXISTS', Keys.consultation(c.id)) == 1 then return 'false' end
local uoKey = Keys.userOpen(c.appId, c.userId)
local other = redis.call('GET', uoKey)
if other and redis.call('EXISTS', Keys.consultation(other)) == 1 then return 'false' end
if c.status ~= 'active' or isNull(c.vetId) then
  c.status = 'queued'
  c.offer = NULL
end
-- Later requests must still come after this one.
if (tonumber(redis.call('GET', Keys.seq)) or 0) < c.seq then redis.call('SET', Keys.seq, c.seq) end
redis.call('MSET', Keys.consultation(c.id), cjson.encode(c), Keys.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
if c.status == 'active' then
  local v = getVet(c.vetId)
  if not v then
    local since = c.acceptedAt
    if isNull(since) then since = c.createdAt end
    v = newVet(c.vetId, since)
  end
  if not contains(v.activeConsultationIds, c.id) then holdActive(v, c) end
  putVet(v)
else
  enterQueue(c, queueScore(c))
  addWaiting(c)
  setDeadline('queue', c.id, c.queueDeadline)
  if not isNull(c.careDeadline) then setDeadline('license', c.id, c.careDeadline) end
end
return 'true'
