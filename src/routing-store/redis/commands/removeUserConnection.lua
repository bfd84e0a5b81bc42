--[[
Removes a user socket connection.
ARGV  1 prefix, 2 appId, 3 userId, 4 connId
KEYS  userConnections(appId, userId), nodeUserConnections(node)
Reply the remaining connection count, as a decimal string (JSON number)
]]
--- @include "includes/keys"

local appId, userId, connId = ARGV[2], ARGV[3], ARGV[4]
local key = Keys.userConnections(appId, userId)
local node = redis.call('HGET', key, connId)
if node then
  redis.call('HDEL', key, connId)
  redis.call('SREM', Keys.nodeUserConnections(node), appId .. ':' .. userId .. ':' .. connId)
end
return tostring(redis.call('HLEN', key))
