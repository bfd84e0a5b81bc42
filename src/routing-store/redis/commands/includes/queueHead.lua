--[[
The head of the queue (QUEUE_HEAD_LIMIT in src/domain/routing-rules.ts; the memory store's
copy is src/routing-store/memory/queue-head.ts), read from the waiting indexes of waiting.lua.
]]
--- @include "keys"
--- @include "rules"

local URGENT_CLASSES = { 't', 'e', 'p' }

-- The head of the queue for the vets freeVets() returns (decoded; called only when more
-- than QUEUE_HEAD_LIMIT wait): QUEUE_HEAD_LIMIT of the waiting requests, and as many of each
-- urgent class, with the smallest seq: of every species the vets treat and of no species,
-- or of all when one treats every species. Within such a range serving order is arrival
-- order. No more than QUEUE_HEAD_LIMIT waiting: all of them; none when no vet is free.
-- Returns {id, seq} by seq without repeats, and whether a range read had more.
local function headOf(freeVets)
  local ranges = { Keys.waiting }
  if redis.call('ZCARD', Keys.waiting) > QUEUE_HEAD_LIMIT then
    local vets = freeVets()
    if #vets == 0 then return {}, false end
    local speciesList, seen, every = {}, {}, false
    for _, v in ipairs(vets) do
      local list = type(v.skills) == 'table' and v.skills.species
      if type(list) ~= 'table' or #list == 0 then
        every = true
        break
      end
      for _, species in ipairs(list) do
        if not seen[species] then
          seen[species] = true
          speciesList[#speciesList + 1] = species
        end
      end
    end
    if every then
      for _, class in ipairs(URGENT_CLASSES) do ranges[#ranges + 1] = Keys.urgent(class) end
    else
      ranges = {}
      speciesList[#speciesList + 1] = ''
      for _, species in ipairs(speciesList) do
        ranges[#ranges + 1] = Keys.waitingSpecies(species)
        for _, class in ipairs(URGENT_CLASSES) do ranges[#ranges + 1] = Keys.urgentSpecies(class, species) end
      end
    end
  end
  local head, inHead, truncated = {}, {}, false
  for _, key in ipairs(ranges) do
    local r = redis.call('ZRANGE', key, 0, QUEUE_HEAD_LIMIT - 1, 'WITHSCORES')
    if #r == 2 * QUEUE_HEAD_LIMIT and redis.call('ZCARD', key) > QUEUE_HEAD_LIMIT then truncated = true end
    for i = 1, #r, 2 do
      if not inHead[r[i]] then
        inHead[r[i]] = true
        head[#head + 1] = { id = r[i], seq = tonumber(r[i + 1]) }
      end
    end
  end
  if #ranges > 1 then table.sort(head, function(a, b) return a.seq < b.seq end) end
  return head, truncated
end
