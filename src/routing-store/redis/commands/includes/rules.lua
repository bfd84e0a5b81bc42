--[[
The routing rules of src/domain/routing-rules.ts (PROTOCOL §4), function for function and
under the same names, so a rule reads the same on both sides; a property test
(test/routing-store/redis/commands/includes/rules.test.ts) checks that every decision agrees.
`rules` is {maxConsults, languageWaitMs, priorityAgingMs, licensing}, as the caller passed them
(rulesFromArgv). Not mirrored: routingRules() and priorityClassOf(), which only TypeScript
calls (Lua gets the rules and a request's class ready-made).
]]
--- @include "json"
--- @include "lists"

-- QUEUE_HEAD_LIMIT: how many requests of each range the head of the queue reads.
local QUEUE_HEAD_LIMIT = 200

-- The rules from ARGV[first] … ARGV[first + 3] (redis/store.ts ruleArgs()); licensing is 1 or 0.
local function rulesFromArgv(first)
  return {
    maxConsults = tonumber(ARGV[first]),
    languageWaitMs = tonumber(ARGV[first + 1]),
    priorityAgingMs = tonumber(ARGV[first + 2]),
    licensing = ARGV[first + 3] == '1',
  }
end

-- 't' transferred, 'e' emergency, 'p' protected, nil for everyone else.
local function urgentClassOf(c)
  if c.transferred == true then return 't' end
  if c.priority == 'emergency' then return 'e' end
  if c.priority == 'protected' then return 'p' end
  return nil
end

local function chatCapacity(v, maxConsults)
  if type(v.skills) == 'table' and not isNull(v.skills.maxChats) then return v.skills.maxChats end
  return maxConsults
end

local function isEligible(v, maxConsults)
  return v.connections > 0
    and v.status == 'available'
    and isNull(v.offerConsultationId)
    and isNull(v.wrapupUntil)
    and v.holdsVideo ~= true
    and #v.activeConsultationIds < chatCapacity(v, maxConsults)
end

local function treatsSpecies(v, species)
  if isNull(species) or species == '' or type(v.skills) ~= 'table' then return true end
  local list = v.skills.species
  if type(list) ~= 'table' or #list == 0 then return true end
  return contains(list, species)
end

-- The region itself or its country ('US' covers 'US-CA'); no region: no licence matches.
local function licensedFor(v, region)
  if isNull(region) or region == '' then return false end
  if type(v.skills) ~= 'table' or type(v.skills.licenses) ~= 'table' then return false end
  local licenses = v.skills.licenses
  if contains(licenses, region) then return true end
  local dash = string.find(region, '-', 1, true)
  return dash ~= nil and dash > 1 and contains(licenses, string.sub(region, 1, dash - 1))
end

local function mayGiveCare(v, c, licensing)
  return not licensing or c.care == 'advice' or licensedFor(v, c.region)
end

local DEFAULT_LANGUAGES = { 'en' }

-- Read only: the default list is shared.
local function languagesOf(v)
  if type(v.skills) ~= 'table' or type(v.skills.languages) ~= 'table' then return DEFAULT_LANGUAGES end
  return v.skills.languages
end

local function inLanguageWindow(c, now, languageWaitMs)
  return not isNull(c.language) and c.language ~= '' and now < c.createdAt + languageWaitMs
end

-- ignoreLanguage: opts.ignoreLanguage of the TypeScript (a boolean here: no table per call).
local function canTake(v, c, now, rules, ignoreLanguage)
  if not isEligible(v, rules.maxConsults) then return false end
  if contains(c.excludedVetIds, v.vetId) then return false end
  if not treatsSpecies(v, c.species) then return false end
  if not mayGiveCare(v, c, rules.licensing) then return false end
  if c.type == 'video' and #v.activeConsultationIds > 0 then return false end
  -- A referral (PROTOCOL §10) goes only to the vet it names, and its language binds.
  local referral = not isNull(c.referralOf)
  if referral and not isNull(c.requestedVetId) and c.requestedVetId ~= v.vetId then return false end
  if referral and not isNull(c.language) and c.language ~= '' and not contains(languagesOf(v), c.language) then
    return false
  end
  if not ignoreLanguage and inLanguageWindow(c, now, rules.languageWaitMs)
    and not contains(languagesOf(v), c.language) then
    return false
  end
  return true
end

local CLASS_RANK = { emergency = 1, protected = 2, normal = 3 }

local function priorityRank(c, now, agingMs)
  if c.transferred == true then return 0 end
  local base = CLASS_RANK[c.priority] or 3
  local lifted = 0
  if agingMs > 0 then lifted = math.floor(math.max(0, now - c.createdAt) / agingMs) end
  return math.max(1, base - lifted)
end

-- A comparator as in TypeScript: negative when a is served before b. (table.sort wants
-- `comparator(a, b) < 0`.)
local function queueComparator(now, agingMs)
  return function(a, b)
    local byRank = priorityRank(a, now, agingMs) - priorityRank(b, now, agingMs)
    if byRank ~= 0 then return byRank end
    return a.seq - b.seq
  end
end
