--[[
Creates a consultation already active with a vet who can take it (REST talk-to-vet;
canTake with the language not binding: talk-to-vet cannot wait).
ARGV  1 prefix, 2 consultation JSON (no profile, no seq), 3 profile JSON, 4 vetId,
      5 now (ms), 6 maxConsults, 7 languageWaitMs, 8 priorityAgingMs
KEYS  userOpen, vet(vetId), seq, consultation, consultationProfile
Reply JSON {ok: true, consultation: {d, p}}
          | {ok: false, reason: 'user_has_open', existing: {d, p}}
          | {ok: false, reason: 'vet_not_eligible'}
]]
--- @include "includes/keys"
--- @include "includes/json"
--- @include "includes/rules"
--- @include "includes/consultations"
--- @include "includes/vets"

local c = cjson.decode(ARGV[2])
local vetId, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local rules = rulesFromArgv(6)
local uoKey = Keys.userOpen(c.appId, c.userId)
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, doc, profile = getConsultation(existingId)
  if ex then return '{"ok":false,"reason":"user_has_open","existing":' .. consultationReply(doc, profile) .. '}' end
end
local v = getVet(vetId)
if not v or not canTake(v, c, now, rules, true) then return '{"ok":false,"reason":"vet_not_eligible"}' end
c.seq = redis.call('INCR', Keys.seq)
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
local doc = cjson.encode(c)
redis.call('MSET', Keys.consultation(c.id), doc, Keys.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
holdActive(v, c)
putVet(v)
return '{"ok":true,"consultation":' .. consultationReply(doc, ARGV[3]) .. '}'
