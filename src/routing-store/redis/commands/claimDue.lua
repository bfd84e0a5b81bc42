--[[
Pops up to limit deadlines due at now. Range and removal in one script: each fires once.
ARGV  1 prefix, 2 now (ms), 3 limit (> 0)
KEYS  deadlines
Reply JSON array of {kind, ref, at}
]]
--- @include "includes/keys"

local r = redis.call('ZRANGEBYSCORE', Keys.deadlines, '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #r, 2 do
  local m = r[i]
  redis.call('ZREM', Keys.deadlines, m)
  local sep = string.find(m, ':', 1, true)
  out[#out + 1] = '{"kind":' .. cjson.encode(string.sub(m, 1, sep - 1))
    .. ',"ref":' .. cjson.encode(string.sub(m, sep + 1)) .. ',"at":' .. r[i + 1] .. '}'
end
return '[' .. table.concat(out, ',') .. ']'
