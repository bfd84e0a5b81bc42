--[[
Puts an open consultation back into live state as given (rebuild, or an undo); no-op when
it is there already or its user has another open one. Offered ones come as queued.
ARGV  1 prefix, 2 consultation JSON (no profile, with seq), 3 profile JSON
KEYS  consultation, consultationProfile, userOpen, seq, queue, waiting, deadlines;
      vet(vetId), vets, vetSeq (active)
Reply 'true' | 'false' (JSON): restored by this call
]]
--- @include "includes/lib"

local c = cjson.decode(ARGV[2])
local uoKey = K.userOpen(c.appId, c.userId)
if redis.call('EXISTS', K.consultation(c.id)) == 1 or redis.call('EXISTS', uoKey) == 1 then return 'false' end
c.offer = NULL
if c.status == 'active' then
  if isnull(c.vetId) then return 'false' end
  local v = getV(c.vetId)
  if not v then
    local since = c.acceptedAt
    if isnull(since) then since = c.createdAt end
    v = newVet(c.vetId, since)
  end
  if not contains(v.activeConsultationIds, c.id) then table.insert(v.activeConsultationIds, c.id) end
  putV(v)
else
  c.status = 'queued'
  redis.call('ZADD', K.queue, c.seq, c.id)
  redis.call('ZADD', K.waiting, c.seq, c.id)
  setDeadline('queue', c.id, c.queueDeadline)
end
-- Later enqueues come after every restored one.
if (tonumber(redis.call('GET', K.seq)) or 0) < c.seq then redis.call('SET', K.seq, string.format('%d', c.seq)) end
redis.call('MSET', K.consultation(c.id), cjson.encode(c), K.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
return 'true'
