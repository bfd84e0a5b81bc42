--[[
MGET of any number of keys.
]]
-- Appends the values of keys to out, MGET in slices: unpack() of thousands of values would
-- overflow the Lua stack.
local function mgetInto(out, keys)
  for i = 1, #keys, 500 do
    local values = redis.call('MGET', unpack(keys, i, math.min(i + 499, #keys)))
    for j = 1, #values do out[#out + 1] = values[j] end
  end
  return out
end
