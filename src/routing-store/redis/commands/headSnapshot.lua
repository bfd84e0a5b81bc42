--[[
The read of a routing pass made for an event: the head of the queue for the vets free now
(headOf: of each species they treat, the QUEUE_HEAD_LIMIT waiting longest and as many of
each urgent class; all when no more than QUEUE_HEAD_LIMIT wait), the requests named in ARGV
that are still waiting (the ones the event is about, wherever they are in the queue) and
every known vet, in one round trip.
Bounded however long the queue; snapshot reads it all.
ARGV  1 prefix, 2 maxConsults, 3.. consultation ids to include while they wait
KEYS  vets, vet(each id), waiting, waitingSpecies and urgentSpecies (each class) of each species
      a free vet treats and of '' (or urgent of each class),
      consultation(each head or included id)
Reply array {{consultation JSON|nil, ...} in seq order without repeats, {VetPresence JSON|nil, ...},
      1 when a head range had more than it read, else 0}
]]
--- @include "includes/keys"
--- @include "includes/mget"
--- @include "includes/rules"
--- @include "includes/queueHead"

local maxConsults = tonumber(ARGV[2])
local vetDocs = {}
local vkeys = {}
for _, id in ipairs(redis.call('ZRANGE', Keys.vets, 0, -1)) do vkeys[#vkeys + 1] = Keys.vet(id) end
mgetInto(vetDocs, vkeys)
local head, truncated = headOf(function()
  local free = {}
  for _, doc in ipairs(vetDocs) do
    if doc then
      local v = cjson.decode(doc)
      if isEligible(v, maxConsults) then free[#free + 1] = v end
    end
  end
  return free
end)
local seen = {}
for _, e in ipairs(head) do seen[e.id] = true end
local added = false
for i = 3, #ARGV do
  local id = ARGV[i]
  local score = not seen[id] and redis.call('ZSCORE', Keys.waiting, id)
  if score then
    seen[id] = true
    head[#head + 1] = { id = id, seq = tonumber(score) }
    added = true
  end
end
if added then table.sort(head, function(a, b) return a.seq < b.seq end) end
local keys = {}
for _, e in ipairs(head) do keys[#keys + 1] = Keys.consultation(e.id) end
return { mgetInto({}, keys), vetDocs, truncated and 1 or 0 }
