--[[
The vet accepts the offer it holds (idempotent once active with that vet).
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 now (ms), 5 channelSid ('' = none)
KEYS  consultation, consultationProfile, vet(vetId), deadlines, queue, appQueued, queueClass(class)
Reply JSON {ok: true, alreadyActive: boolean, consultation: {d, p}, offer?: {vetId, offeredAt, expiresAt}}
          | {ok: false, reason: 'no_offer' | 'expired'}
]]
--- @include "includes/lib"

local cid, vetId, now, channelSid = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local c, d, p = getC(cid)
if c and c.status == 'active' and c.vetId == vetId then
  return '{"ok":true,"alreadyActive":true,"consultation":' .. jc(d, p) .. '}'
end
if not c or c.status ~= 'offered' or isnull(c.offer) or c.offer.vetId ~= vetId then
  return '{"ok":false,"reason":"no_offer"}'
end
if c.offer.expiresAt <= now then return '{"ok":false,"reason":"expired"}' end
local v = getV(vetId)
if not v then return '{"ok":false,"reason":"no_offer"}' end
-- The resolved offer goes back to the caller, for revertAccept when the durable write fails.
local offer = cjson.encode(c.offer)
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
if channelSid ~= '' and isnull(c.channelSid) then c.channelSid = channelSid end
v.offerConsultationId = NULL
holdActive(v, c)
putV(v)
delDeadlines(cid, {'offer', 'queue', 'grace'})
leaveQueue(c)
return '{"ok":true,"alreadyActive":false,"consultation":' .. jc(putC(c), p) .. ',"offer":' .. offer .. '}'
