--[[
The waiting requests: the queued ones with no offer (zset w, by seq), also indexed by
species (ws:{species}) and, transferred, emergency and protected ones, by class (wu:{class},
of all species and of theirs: wu:{class}:{species}), so that the head of the queue
(queueHead.lua) reads each class in arrival order and skips species no free vet treats.
A waiting request's species, class and transfer never change.
]]
--- @include "keys"
--- @include "json"
--- @include "rules"

-- The species a waiting request is indexed under ('' when it has none).
local function speciesOf(c)
  if isNull(c.species) then return '' end
  return c.species
end

local function addWaiting(c)
  local species, class = speciesOf(c), urgentClassOf(c)
  redis.call('ZADD', Keys.waiting, c.seq, c.id)
  redis.call('ZADD', Keys.waitingSpecies(species), c.seq, c.id)
  if class then
    redis.call('ZADD', Keys.urgent(class), c.seq, c.id)
    redis.call('ZADD', Keys.urgentSpecies(class, species), c.seq, c.id)
  end
end

local function removeWaiting(c)
  local species, class = speciesOf(c), urgentClassOf(c)
  redis.call('ZREM', Keys.waiting, c.id)
  redis.call('ZREM', Keys.waitingSpecies(species), c.id)
  if class then
    redis.call('ZREM', Keys.urgent(class), c.id)
    redis.call('ZREM', Keys.urgentSpecies(class, species), c.id)
  end
end
