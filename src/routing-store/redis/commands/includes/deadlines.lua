--[[
Deadlines: members "{kind}:{ref}" of the deadlines zset, scored by due time (claimDue pops them).
]]
--- @include "keys"

local function setDeadline(kind, ref, at)
  redis.call('ZADD', Keys.deadlines, at, kind .. ':' .. ref)
end

local function removeDeadlines(ref, kinds)
  for _, kind in ipairs(kinds) do redis.call('ZREM', Keys.deadlines, kind .. ':' .. ref) end
end
