--[[
Queues a new consultation unless the user already has an open one.
ARGV  1 prefix, 2 consultation JSON (no profile, no seq), 3 profile JSON
KEYS  userOpen, seq, consultation, consultationProfile, queue, waiting, deadlines
Reply JSON {created: boolean, consultation: {d, p}, position: number}
]]
--- @include "includes/lib"

local c = cjson.decode(ARGV[2])
local uoKey = K.userOpen(c.appId, c.userId)
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, d, p = getC(existingId)
  if ex then
    return '{"created":false,"consultation":' .. jc(d, p) .. ',"position":' .. position(queueScore(ex)) .. '}'
  end
end
c.seq = redis.call('INCR', K.seq)
c.status = 'queued'
c.offer = NULL
local d = cjson.encode(c)
redis.call('MSET', K.consultation(c.id), d, K.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
redis.call('ZADD', K.queue, c.seq, c.id)
redis.call('ZADD', K.waiting, c.seq, c.id)
setDeadline('queue', c.id, c.queueDeadline)
return '{"created":true,"consultation":' .. jc(d, ARGV[3]) .. ',"position":' .. position(c.seq) .. '}'
