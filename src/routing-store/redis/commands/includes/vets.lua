--[[
Reading and writing a vet's presence (v:{vetId}, VetPresence JSON), and the changes the
memory store makes with src/routing-store/memory/vet-holdings.ts.
]]
--- @include "keys"
--- @include "json"
--- @include "lists"

-- The vet decoded and its JSON; nil for a vet never seen.
local function getVet(vetId)
  local doc = redis.call('GET', Keys.vet(vetId))
  if not doc then return nil end
  return cjson.decode(doc), doc
end

-- Saves v; returns its JSON.
local function putVet(v)
  local doc = cjson.encode(v)
  redis.call('SET', Keys.vet(v.vetId), doc)
  return doc
end

-- A vet not seen before (offlineVet()): offline and away, idle since now; joins the known
-- vets in first-seen order. The caller saves it.
local function newVet(vetId, now)
  redis.call('ZADD', Keys.vets, 'NX', redis.call('INCR', Keys.vetSeq), vetId)
  return {
    vetId = vetId, status = 'away', connections = 0, idleSince = now,
    offerConsultationId = NULL, activeConsultationIds = {},
    wrapupUntil = NULL, wrapupConsultationId = NULL,
  }
end

-- The vet holds c as active; a video is held alone.
local function holdActive(v, c)
  table.insert(v.activeConsultationIds, c.id)
  if c.type == 'video' then v.holdsVideo = true end
end

local function dropActive(v, c)
  removeValue(v.activeConsultationIds, c.id)
  if c.type == 'video' then v.holdsVideo = nil end
end

-- Installs the skills of JSON skillsJson unless v holds a higher version (an operator's
-- later change); equal versions replace. No version (stored before versions existed)
-- counts as 0.
local function takeSkills(v, skillsJson)
  local skills = cjson.decode(skillsJson)
  local held = type(v.skills) == 'table' and tonumber(v.skills.version) or 0
  if held > (tonumber(skills.version) or 0) then return end
  v.skills = skills
end
