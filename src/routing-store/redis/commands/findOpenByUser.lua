--[[
The user's open consultation, read consistently in one round trip.
ARGV  1 prefix, 2 appId, 3 userId
KEYS  userOpen(appId, userId), consultation(id), consultationProfile(id)
Reply JSON {d, p} | 'null'
]]
--- @include "includes/keys"
--- @include "includes/consultations"

local id = redis.call('GET', Keys.userOpen(ARGV[2], ARGV[3]))
if not id then return 'null' end
local r = redis.call('MGET', Keys.consultation(id), Keys.consultationProfile(id))
if not r[1] then return 'null' end
return consultationReply(r[1], r[2])
