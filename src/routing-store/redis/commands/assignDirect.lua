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
--- @include "includes/lib"

local c = cjson.decode(ARGV[2])
local vetId, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local R = { maxConsults = tonumber(ARGV[6]), languageWaitMs = tonumber(ARGV[7]), priorityAgingMs = tonumber(ARGV[8]) }
local uoKey = K.userOpen(c.appId, c.userId)
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, d, p = getC(existingId)
  if ex then return '{"ok":false,"reason":"user_has_open","existing":' .. jc(d, p) .. '}' end
end
local v = getV(vetId)
if not v or not canTake(v, c, now, R, true) then return '{"ok":false,"reason":"vet_not_eligible"}' end
c.seq = redis.call('INCR', K.seq)
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
local d = cjson.encode(c)
redis.call('MSET', K.consultation(c.id), d, K.consultationProfile(c.id), ARGV[3])
redis.call('SET', uoKey, c.id)
holdActive(v, c)
putV(v)
return '{"ok":true,"consultation":' .. jc(d, ARGV[3]) .. '}'
