--[[
The read of a routing pass made for an event: the head of the queue (headIds: the
QUEUE_HEAD_LIMIT requests waiting longest for an offer, and as many of the urgent ones),
the requests named in ARGV that are still waiting (the ones the event is about, wherever
they are in the queue) and every known vet, in one round trip. Bounded however long the
queue; snapshot reads it all.
ARGV  1 prefix, 2.. consultation ids to include while they wait
KEYS  waiting, urgent, consultation(each head or included id), vets, vet(each id)
Reply array {{consultation JSON|nil, ...} in seq order without repeats, {VetPresence JSON|nil, ...},
      how many wait for an offer in all}
]]
--- @include "includes/lib"

local ids, seqs = headIds()
if #ARGV > 1 then
  local seen, all, added = {}, {}, false
  for k, id in ipairs(ids) do
    seen[id] = true
    all[k] = { id = id, seq = seqs[k] }
  end
  for i = 2, #ARGV do
    local id = ARGV[i]
    local score = not seen[id] and redis.call('ZSCORE', K.waiting, id)
    if score then
      seen[id] = true
      all[#all + 1] = { id = id, seq = tonumber(score) }
      added = true
    end
  end
  if added then
    table.sort(all, function(x, y) return x.seq < y.seq end)
    ids = {}
    for k, e in ipairs(all) do ids[k] = e.id end
  end
end
local keys = {}
for _, id in ipairs(ids) do keys[#keys + 1] = K.consultation(id) end
local vkeys = {}
for _, id in ipairs(redis.call('ZRANGE', K.vets, 0, -1)) do vkeys[#vkeys + 1] = K.vet(id) end
return { mgetInto({}, keys), mgetInto({}, vkeys), redis.call('ZCARD', K.waiting) }
