--[[
Adds a user socket connection.
ARGV  1 prefix, 2 appId, 3 userId, 4 connId, 5 nodeId
KEYS  userConnections(appId, userId), nodeUserConnections(old and new node)
Reply the user's connection count, as a decimal string (JSON number)
]]
--- @include "includes/keys"

local appId, userId, connId, nodeId = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = Keys.userConnections(appId, userId)
local member = appId .. ':' .. userId .. ':' .. connId
local old = redis.call('HGET', key, connId)
if old and old ~= nodeId then redis.call('SREM', Keys.nodeUserConnections(old), member) end
redis.call('HSET', key, connId, nodeId)
redis.call('SADD', Keys.nodeUserConnections(nodeId), member)
return tostring(redis.call('HLEN', key))
