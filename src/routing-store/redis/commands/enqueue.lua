--[[
Queues a new consultation unless the user already has an open one, or unless its app
already has ARGV[4] consultations waiting (queued or offered; MAX_QUEUED_PER_APP).
With a cap of 0 nothing is counted. With a cap the count is one HGET: appQueued holds each
app's count, kept by every step that puts a consultation into the queue or takes it out
(enterQueue, leaveQueue).
The answered position is the place in serving order at the request's createdAt, counted
from the class indexes (queueClass; a ZCARD for an ordinary request, every other being ahead
of it). For an open consultation found again it is O(queue length) (servingPosition).
ARGV  1 prefix, 2 consultation JSON (no profile, no seq), 3 profile JSON, 4 cap per app (0 = none),
      5 priorityAgingMs
KEYS  userOpen, seq, consultation, consultationProfile, queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species), deadlines
Reply JSON {created: boolean, consultation: {d, p}, position: number}, or {appQueueFull: true}
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/waiting"

local c = cjson.decode(ARGV[2])
local agingMs = tonumber(ARGV[5]) or 0
local uoKey = Keys.userOpen(c.appId, c.userId)
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, doc, profile = getConsultation(existingId)
  if ex then
    local at = 0
    if ex.status ~= 'active' then at = servingPosition(ex, c.createdAt, agingMs) end
    return '{"created":false,"consultation":' .. consultationReply(doc, profile) .. ',"position":' .. at .. '}'
  end
end
local cap = tonumber(ARGV[4]) or 0
if cap > 0 and (tonumber(redis.call('HGET', Keys.appQueued, c.appId)) or 0) >= cap then
  return '{"appQueueFull":true}'
end
c.seq = redis.call('INCR', Keys.seq)
c.status = 'queued'
c.offer = NULL
local doc = cjson.encode(c)
redis.call('MSET', Keys.consultation(c.id), doc, Keys.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
enterQueue(c, c.seq)
addWaiting(c)
setDeadline('queue', c.id, c.queueDeadline)
if not isNull(c.careDeadline) then setDeadline('license', c.id, c.careDeadline) end
local at = newRequestPosition(c, c.createdAt, agingMs)
return '{"created":true,"consultation":' .. consultationReply(doc, ARGV[3]) .. ',"position":' .. at .. '}'
