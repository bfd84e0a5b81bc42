--[[
Sets the channel and/or room SID of an open consultation.
ARGV  1 prefix, 2 consultationId, 3 hasChannel ('1' | '0'), 4 channelSid,
      5 hasRoom ('1' | '0'), 6 roomSid
KEYS  consultation, consultationProfile
Reply JSON {d, p} | 'null' (not open)
]]
--- @include "includes/consultations"

local c, _, profile = getConsultation(ARGV[2])
if not c then return 'null' end
if ARGV[3] == '1' then c.channelSid = ARGV[4] end
if ARGV[5] == '1' then c.roomSid = ARGV[6] end
return consultationReply(putConsultation(c), profile)
