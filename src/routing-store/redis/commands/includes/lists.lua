--[[
Array helpers (JSON arrays decode to Lua sequences).
]]
local function contains(list, x)
  for i = 1, #list do if list[i] == x then return true end end
  return false
end

local function removeValue(list, x)
  for i = #list, 1, -1 do if list[i] == x then table.remove(list, i) end end
end
