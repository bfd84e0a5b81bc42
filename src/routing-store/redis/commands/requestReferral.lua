--[[
Refers an active consultation held by the referral's first vet alone (no referral pending, no
warm overlap): the consultation gets `referral`, and its entry ({id}~referral) joins the
transferred class of the queue, offered like a request: `to`'s species (else the pet's) and
language (binding), the named vet as requestedVetId (binding), the first vet excluded, a
queue deadline at referral.deadline.
ARGV  1 prefix, 2 consultationId, 3 referral JSON (Referral of src/domain/types.ts),
      4 species (referral.species; '' = the pet's), 5 language (referral.language; '' = none)
KEYS  consultation, consultationProfile, entry and its profile, seq, queue, appQueued, queueClass('t'),
      waiting, waitingSpecies, urgent('t'), urgentSpecies('t', species), deadlines
Reply JSON {ok: true, consultation: {d, p}, entry: {d, p}}
          | {ok: false, reason: 'not_found' | 'not_holder' | 'not_active' | 'pending'}
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/waiting"
--- @include "includes/referrals"

local cid = ARGV[2]
local referral = cjson.decode(ARGV[3])
local c, _, profile = getConsultation(cid)
if not c or not isNull(c.referralOf) then return '{"ok":false,"reason":"not_found"}' end
if c.status ~= 'active' then return '{"ok":false,"reason":"not_active"}' end
local from = referral.fromVetId
if c.vetId ~= from and c.leavingVetId ~= from then return '{"ok":false,"reason":"not_holder"}' end
if c.vetId ~= from or not isNull(c.referral) or not isNull(c.leavingVetId) then return '{"ok":false,"reason":"pending"}' end
c.referral = referral
local doc = putConsultation(c)
local e, edoc = putEntry(c, profile, referral, ARGV[4], ARGV[5])
addWaiting(e)
return '{"ok":true,"consultation":' .. consultationReply(doc, profile) .. ',"entry":' .. consultationReply(edoc, profile) .. '}'
