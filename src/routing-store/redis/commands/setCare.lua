--[[
Sets the care of an open consultation, as the ledger recorded it first (PROTOCOL §4: a
treatment request that found no licensed vet becomes advice), and drops its advice
fallback deadline: the change happens once.
ARGV  1 prefix, 2 consultationId, 3 care ('treatment' | 'advice')
KEYS  consultation, consultationProfile, deadlines
Reply JSON {d, p} | 'null' (not open)
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/deadlines"

local c, _, profile = getConsultation(ARGV[2])
if not c then return 'null' end
c.care = ARGV[3]
c.careDeadline = NULL
removeDeadlines(c.id, {'license'})
return consultationReply(putConsultation(c), profile)
