--[[
JSON as cjson decodes it: a JSON null is cjson.null, not nil, and an absent field is nil.
]]
local NULL = cjson.null

-- Null or absent: what `=== null` / `?? x` reads as missing in the TypeScript.
local function isNull(x) return x == nil or x == NULL end
