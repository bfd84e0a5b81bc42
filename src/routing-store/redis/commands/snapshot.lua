--[[
The whole-queue read, one page a call: queued and offered consultations (no profiles) after
a queue score, in queue order, and with the first page every known vet. Paged so that no
call holds Redis for long however long the queue. A full page runs on to the end of its
last score: consultations restored from the database share a score when they were created
in the same millisecond, and the next page starts after that score. No JSON work in Lua;
an array reply rather than one concatenated string: building a large string in Lua cost
Redis twice the time. Profiles stay behind: planning does not need them and they are most
of the bytes.
ARGV  1 prefix, 2 after: the queue score to read after ('-inf': the first page),
      3 page size (0: the vets alone)
KEYS  queue, consultation(each id of the page), vets and vet(each id) (first page only)
Reply array {{consultation JSON|nil, ...} in queue order, {VetPresence JSON|nil, ...} (empty
      after the first page), the page's last score when the page was full (read on after
      it), else nil}
]]
--- @include "includes/keys"
--- @include "includes/mget"

local after, size = ARGV[2], tonumber(ARGV[3])
local first = after == '-inf'
local keys, last = {}, false
if size > 0 then
  local r = redis.call('ZRANGEBYSCORE', Keys.queue, first and '-inf' or '(' .. after, '+inf', 'WITHSCORES', 'LIMIT', 0, size)
  local inPage = {}
  for i = 1, #r, 2 do
    keys[#keys + 1] = Keys.consultation(r[i])
    inPage[r[i]] = true
  end
  if #r == 2 * size then
    last = r[#r]
    -- The rest of the last score, in the same (member) order.
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', Keys.queue, last, last)) do
      if not inPage[id] then keys[#keys + 1] = Keys.consultation(id) end
    end
  end
end
local vkeys = {}
if first then
  for _, id in ipairs(redis.call('ZRANGE', Keys.vets, 0, -1)) do vkeys[#vkeys + 1] = Keys.vet(id) end
end
return { mgetInto({}, keys), mgetInto({}, vkeys), last }
