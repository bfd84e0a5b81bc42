--[[
Reading and writing consultations: c:{id} holds one as JSON without its profile (edited by
Lua), cp:{id} the profile JSON, stored and spliced into replies untouched. The profile is
kept out of Lua on purpose: cjson rounds numbers to 14 significant digits and turns empty
arrays into `{}`, which would silently alter partner-supplied pet data.
]]
--- @include "keys"
--- @include "mget"

-- A consultation in a reply, {d, p}: its JSON (doc) and its untouched profile JSON.
local function consultationReply(doc, profile) return '{"d":' .. doc .. ',"p":' .. profile .. '}' end

-- The consultation decoded, its JSON and its profile JSON; nil when it is not open.
local function getConsultation(id)
  local stored = redis.call('MGET', Keys.consultation(id), Keys.consultationProfile(id))
  if not stored[1] then return nil end
  return cjson.decode(stored[1]), stored[1], stored[2]
end

-- Saves c (not its profile); returns its JSON.
local function putConsultation(c)
  local doc = cjson.encode(c)
  redis.call('SET', Keys.consultation(c.id), doc)
  return doc
end

-- Decoded consultations of ids, in their order; missing ones left out.
local function consultationsOf(ids)
  local keys = {}
  for _, id in ipairs(ids) do keys[#keys + 1] = Keys.consultation(id) end
  local out = {}
  for _, doc in ipairs(mgetInto({}, keys)) do
    if doc then out[#out + 1] = cjson.decode(doc) end
  end
  return out
end
