--[[
Cleaning up after a gateway node (dead, or shutting down): its connections and what they held.
]]
--- @include "keys"
--- @include "json"
--- @include "vets"
--- @include "offers"

-- Removes every connection made through nodeId; vets left with none go offline and
-- release their offer (outcome node_dead). Runs inside one script, so exactly once.
-- Returns NodeCleanup JSON {nodeId, offlineVetIds, released, disconnectedUsers}.
local function cleanupNode(nodeId)
  redis.call('ZREM', Keys.nodes, nodeId)
  redis.call('DEL', Keys.nodeHeartbeat(nodeId))

  local nodeVets = Keys.nodeVetConnections(nodeId)
  local seenVet, vetIds = {}, {}
  for _, member in ipairs(redis.call('SMEMBERS', nodeVets)) do
    local sep = string.find(member, ':', 1, true)
    local vetId, connId = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
    local connections = Keys.vetConnections(vetId)
    -- A connection id re-registered through another node is not ours to drop.
    if redis.call('HGET', connections, connId) == nodeId then
      redis.call('HDEL', connections, connId)
      if not seenVet[vetId] then seenVet[vetId] = true; vetIds[#vetIds + 1] = vetId end
    end
  end
  redis.call('DEL', nodeVets)

  -- Report vets in first-seen order, like the memory store.
  local firstSeen = {}
  for _, id in ipairs(vetIds) do firstSeen[id] = tonumber(redis.call('ZSCORE', Keys.vets, id)) or 0 end
  table.sort(vetIds, function(a, b) return firstSeen[a] < firstSeen[b] end)

  local offline, released = {}, {}
  for _, id in ipairs(vetIds) do
    local v = getVet(id)
    if v then
      local left = redis.call('HLEN', Keys.vetConnections(id))
      v.connections = left
      if left == 0 then
        offline[#offline + 1] = id
        if not isNull(v.offerConsultationId) then
          local reply = releaseOffer(v.offerConsultationId, tonumber(id), v, false)
          if reply then released[#released + 1] = '{"consultation":' .. reply .. ',"vetId":' .. id .. '}' end
        end
      end
      putVet(v)
    end
  end

  local nodeUsers = Keys.nodeUserConnections(nodeId)
  local seenUser, users = {}, {}
  for _, member in ipairs(redis.call('SMEMBERS', nodeUsers)) do
    local i = string.find(member, ':', 1, true)
    local j = string.find(member, ':', i + 1, true)
    local appId, userId, connId = string.sub(member, 1, i - 1), string.sub(member, i + 1, j - 1), string.sub(member, j + 1)
    local connections = Keys.userConnections(appId, userId)
    if redis.call('HGET', connections, connId) == nodeId then
      redis.call('HDEL', connections, connId)
      local user = appId .. ':' .. userId
      if not seenUser[user] then seenUser[user] = true; users[#users + 1] = {appId, userId} end
    end
  end
  redis.call('DEL', nodeUsers)

  local gone = {}
  for _, u in ipairs(users) do
    if redis.call('EXISTS', Keys.userConnections(u[1], u[2])) == 0 then
      gone[#gone + 1] = '{"appId":' .. u[1] .. ',"userId":' .. u[2] .. '}'
    end
  end

  return '{"nodeId":' .. cjson.encode(nodeId)
    .. ',"offlineVetIds":[' .. table.concat(offline, ',')
    .. '],"released":[' .. table.concat(released, ',')
    .. '],"disconnectedUsers":[' .. table.concat(gone, ',') .. ']}'
end
