--[[
The queue: queued and offered consultations (zset q, by queue score), each app's count of
them (hash aq) and an index of each class by createdAt (zsets qc:{t,e,p,n}), and places in
serving order.
]]
--- @include "keys"
--- @include "rules"
--- @include "consultations"

-- Queue score: seq, or seq - TRANSFER_OFFSET for a transferred consultation, which puts it
-- ahead of every other (queueOrder() in src/domain/routing-store.ts). Exact in a double.
local TRANSFER_OFFSET = 1e15
local function queueScore(c)
  if c.transferred == true then return c.seq - TRANSFER_OFFSET end
  return c.seq
end

-- 1-based place among queued and offered consultations (those with a smaller queue score).
local function queuePosition(score)
  return redis.call('ZCOUNT', Keys.queue, '-inf', '(' .. score) + 1
end

-- c joins the queue (queued or offered) with score; the app's count and its class index
-- (for newRequestPosition) follow, once. A consultation's class does not change while it
-- is in the queue (only `transfer` sets `transferred`, from outside the queue).
local function enterQueue(c, score)
  if redis.call('ZADD', Keys.queue, score, c.id) == 1 then
    redis.call('HINCRBY', Keys.appQueued, c.appId, 1)
    redis.call('ZADD', Keys.queueClass(urgentClassOf(c) or 'n'), c.createdAt, c.id)
  end
end

-- c leaves the queue (active, or closed); the app's count and its class index follow, once.
local function leaveQueue(c)
  if redis.call('ZREM', Keys.queue, c.id) == 0 then return end
  redis.call('ZREM', Keys.queueClass(urgentClassOf(c) or 'n'), c.id)
  if redis.call('HINCRBY', Keys.appQueued, c.appId, -1) <= 0 then redis.call('HDEL', Keys.appQueued, c.appId) end
end

-- 1-based place of c in serving order at now among queued and offered consultations.
-- O(queue length): for an open consultation found again (enqueue).
local function servingPosition(c, now, agingMs)
  local compare = queueComparator(now, agingMs)
  local place = 1
  for _, other in ipairs(consultationsOf(redis.call('ZRANGE', Keys.queue, 0, -1))) do
    if other.id ~= c.id and compare(other, c) < 0 then place = place + 1 end
  end
  return place
end

-- 1-based place in serving order at now of c, just enqueued (the largest seq, so every
-- other of its class after aging or a higher one is ahead), urgent or not: counted from
-- the class indexes, never a read of the queue (with 2,000 queued that read held Redis
-- about 9 ms for each emergency or protected request). c counts itself.
local function newRequestPosition(c, now, agingMs)
  local rank = priorityRank(c, now, agingMs)
  if rank == 3 then return redis.call('ZCARD', Keys.queue) end
  -- Of a class of base rank `base`, those whose rank after aging is `rank` or better.
  local function ahead(class, base)
    if base <= rank then return redis.call('ZCARD', Keys.queueClass(class)) end
    if agingMs <= 0 then return 0 end
    return redis.call('ZCOUNT', Keys.queueClass(class), '-inf', now - (base - rank) * agingMs)
  end
  local place = redis.call('ZCARD', Keys.queueClass('t'))
  if rank >= 1 then place = place + ahead('e', 1) + ahead('p', 2) + ahead('n', 3) end
  return place
end
