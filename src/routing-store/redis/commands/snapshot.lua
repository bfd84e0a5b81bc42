--[[
The hot read: queued and offered consultations (no profiles) and every known vet, in
one round trip with no JSON work in Lua. An array reply rather than one concatenated
string: building a large string in Lua cost Redis twice the time. Profiles stay behind:
planning does not need them and they are most of the bytes.
ARGV  1 prefix
KEYS  queue, consultation(each id), vets, vet(each id)
Reply array {{consultation JSON|nil, ...} in seq order, {VetPresence JSON|nil, ...}}
]]
--- @include "includes/lib"

local keys = {}
for _, id in ipairs(redis.call('ZRANGE', K.queue, 0, -1)) do
  keys[#keys + 1] = K.consultation(id)
end
local vkeys = {}
for _, id in ipairs(redis.call('ZRANGE', K.vets, 0, -1)) do vkeys[#vkeys + 1] = K.vet(id) end
return { mgetInto({}, keys), mgetInto({}, vkeys) }
