--[[
The read of a routing pass made for an event: the head of the queue (headIds: the
QUEUE_HEAD_LIMIT requests waiting longest for an offer, and as many of the urgent ones) and
every known vet, in one round trip. Bounded however long the queue; snapshot reads it all.
ARGV  1 prefix
KEYS  waiting, urgent, consultation(each head id), vets, vet(each id)
Reply array {{consultation JSON|nil, ...} in seq order, {VetPresence JSON|nil, ...}}
]]
--- @include "includes/lib"

local keys = {}
for _, id in ipairs(headIds()) do keys[#keys + 1] = K.consultation(id) end
local vkeys = {}
for _, id in ipairs(redis.call('ZRANGE', K.vets, 0, -1)) do vkeys[#vkeys + 1] = K.vet(id) end
return { mgetInto({}, keys), mgetInto({}, vkeys) }
