--[[
Helpers shared by every command; the loader inlines this file where a command says
`--- @include "includes/lib"`. ARGV[1] is always the key prefix.

Keys are built here from the prefix (numkeys 0), so this targets a standalone Redis (or a
primary with replicas), not Redis Cluster. K names them as ../keys.ts does; a test checks
the two agree.

In replies, {d, p} is one consultation: d its JSON without the profile (edited by Lua), p
the profile JSON, stored and spliced in untouched. The profile is kept out of Lua on
purpose: cjson rounds numbers to 14 significant digits and turns empty arrays into `{}`,
which would silently alter partner-supplied pet data.
]]
local P = ARGV[1]
local NULL = cjson.null

local K = {
  queue = P .. 'q',          -- zset: queued and offered consultation ids, scored by seq
  waiting = P .. 'w',        -- zset: the queued ones with no offer, by seq
  appQueued = P .. 'aq',     -- hash: appId → how many of the app's consultations are in queue
  seq = P .. 'seq',          -- counter: enqueue order
  vets = P .. 'vets',        -- zset: known vets, scored by first-seen order
  vetSeq = P .. 'vseq',      -- counter: first-seen order of vets
  deadlines = P .. 'dl',     -- zset: "{kind}:{ref}" scored by due time
  nodes = P .. 'nodes',      -- zset: node id scored by heartbeat expiry
  epoch = P .. 'epoch',      -- string: live-state epoch marker (missing = lost, rebuild)
  rebuildLock = P .. 'rebuild', -- string: token of the node rebuilding, PX ttl
}
function K.consultation(id) return P .. 'c:' .. id end
function K.consultationProfile(id) return P .. 'cp:' .. id end
function K.vet(vetId) return P .. 'v:' .. vetId end
function K.vetConnections(vetId) return P .. 'vc:' .. vetId end
function K.userConnections(appId, userId) return P .. 'uc:' .. appId .. ':' .. userId end
function K.userOpen(appId, userId) return P .. 'uo:' .. appId .. ':' .. userId end
function K.nodeVetConnections(nodeId) return P .. 'n:' .. nodeId .. ':vc' end
function K.nodeUserConnections(nodeId) return P .. 'n:' .. nodeId .. ':uc' end
function K.nodeHeartbeat(nodeId) return P .. 'node:' .. nodeId end
-- zset: the waiting requests of one species ('' = none given), by seq
function K.waitingSpecies(species) return P .. 'ws:' .. species end
-- zset: the waiting requests of one urgent class (t transferred, e emergency, p protected), by seq
function K.urgent(class) return P .. 'wu:' .. class end
-- zset: the same, of one species ('' = none given)
function K.urgentSpecies(class, species) return P .. 'wu:' .. class .. ':' .. species end
-- zset: the queued and offered of one class (t transferred, e emergency, p protected,
-- n the others), by createdAt
function K.queueClass(class) return P .. 'qc:' .. class end

local function isnull(x) return x == nil or x == NULL end

local function contains(t, x)
  for i = 1, #t do if t[i] == x then return true end end
  return false
end

local function removeValue(t, x)
  for i = #t, 1, -1 do if t[i] == x then table.remove(t, i) end end
end

-- Consultation reply: core JSON plus the untouched profile JSON.
local function jc(d, p) return '{"d":' .. d .. ',"p":' .. p .. '}' end

local function getC(id)
  local r = redis.call('MGET', K.consultation(id), K.consultationProfile(id))
  if not r[1] then return nil end
  return cjson.decode(r[1]), r[1], r[2]
end

local function putC(c)
  local d = cjson.encode(c)
  redis.call('SET', K.consultation(c.id), d)
  return d
end

-- MGET in slices: unpack() of thousands of values would overflow the Lua stack.
local function mgetInto(out, keys)
  for i = 1, #keys, 500 do
    local r = redis.call('MGET', unpack(keys, i, math.min(i + 499, #keys)))
    for j = 1, #r do out[#out + 1] = r[j] end
  end
  return out
end

local function getV(vetId)
  local s = redis.call('GET', K.vet(vetId))
  if not s then return nil end
  return cjson.decode(s), s
end

local function putV(v)
  local s = cjson.encode(v)
  redis.call('SET', K.vet(v.vetId), s)
  return s
end

-- The routing rules of src/domain/routing-rules.ts, line for line (PROTOCOL §4). R is
-- {maxConsults, languageWaitMs, priorityAgingMs} as the caller passed them.

local function chatCapacity(v, maxConsults)
  if type(v.skills) == 'table' and not isnull(v.skills.maxChats) then return v.skills.maxChats end
  return maxConsults
end

-- isEligible()
local function eligible(v, maxConsults)
  return v.connections > 0
    and v.status == 'available'
    and isnull(v.offerConsultationId)
    and isnull(v.wrapupUntil)
    and v.holdsVideo ~= true
    and #v.activeConsultationIds < chatCapacity(v, maxConsults)
end

-- treatsSpecies()
local function treatsSpecies(v, species)
  if isnull(species) or species == '' or type(v.skills) ~= 'table' then return true end
  local list = v.skills.species
  if type(list) ~= 'table' or #list == 0 then return true end
  return contains(list, species)
end

-- languagesOf(v).includes(lang)
local function speaks(v, lang)
  if type(v.skills) ~= 'table' or type(v.skills.languages) ~= 'table' then return lang == 'en' end
  return contains(v.skills.languages, lang)
end

-- inLanguageWindow()
local function inLanguageWindow(c, now, R)
  return not isnull(c.language) and c.language ~= '' and now < c.createdAt + R.languageWaitMs
end

-- canTake(); ignoreLanguage for the vet the owner asked for.
local function canTake(v, c, now, R, ignoreLanguage)
  if not eligible(v, R.maxConsults) then return false end
  if contains(c.excludedVetIds, v.vetId) then return false end
  if not treatsSpecies(v, c.species) then return false end
  if c.type == 'video' and #v.activeConsultationIds > 0 then return false end
  if not ignoreLanguage and inLanguageWindow(c, now, R) and not speaks(v, c.language) then return false end
  return true
end

local CLASS_RANK = { emergency = 1, protected = 2, normal = 3 }

-- How many requests of each range the head of the queue reads (QUEUE_HEAD_LIMIT in
-- src/domain/routing-rules.ts).
local QUEUE_HEAD_LIMIT = 200

-- priorityRank()
local function priorityRank(c, now, agingMs)
  if c.transferred == true then return 0 end
  local base = CLASS_RANK[c.priority] or 3
  local lifted = 0
  if agingMs > 0 then lifted = math.floor(math.max(0, now - c.createdAt) / agingMs) end
  return math.max(1, base - lifted)
end

-- queueComparator(): a is served before b.
local function servedBefore(a, b, now, agingMs)
  local ra, rb = priorityRank(a, now, agingMs), priorityRank(b, now, agingMs)
  if ra ~= rb then return ra < rb end
  return a.seq < b.seq
end

-- The vet holds c as active; a video is held alone.
local function holdActive(v, c)
  table.insert(v.activeConsultationIds, c.id)
  if c.type == 'video' then v.holdsVideo = true end
end

local function dropActive(v, c)
  removeValue(v.activeConsultationIds, c.id)
  if c.type == 'video' then v.holdsVideo = nil end
end

-- Decoded consultations of ids, in their order (MGET in slices); missing ones left out.
local function consultationsOf(ids)
  local keys = {}
  for _, id in ipairs(ids) do keys[#keys + 1] = K.consultation(id) end
  local out = {}
  for _, doc in ipairs(mgetInto({}, keys)) do
    if doc then out[#out + 1] = cjson.decode(doc) end
  end
  return out
end

-- The species a waiting request is indexed under ('' when it has none).
local function speciesOf(c)
  if isnull(c.species) then return '' end
  return c.species
end

-- The urgent class a waiting request is indexed under (urgentClassOf() of
-- src/domain/routing-rules.ts): t transferred, e emergency, p protected, nil for the rest.
local function urgentClass(c)
  if c.transferred == true then return 't' end
  if c.priority == 'emergency' then return 'e' end
  if c.priority == 'protected' then return 'p' end
  return nil
end

local URGENT_CLASSES = { 't', 'e', 'p' }

-- The head of the queue for the vets freeVets() returns (decoded; called only when more
-- than QUEUE_HEAD_LIMIT wait): QUEUE_HEAD_LIMIT of the waiting requests, and as many of each
-- urgent class, with the smallest seq: of every species the vets treat and of no species,
-- or of all when one treats every species. Within such a range serving order is arrival
-- order. No more than QUEUE_HEAD_LIMIT waiting: all of them; none when no vet is free.
-- Returns {id, seq} by seq without repeats, and whether a range read had more.
local function headOf(freeVets)
  local ranges = { K.waiting }
  if redis.call('ZCARD', K.waiting) > QUEUE_HEAD_LIMIT then
    local vets = freeVets()
    if #vets == 0 then return {}, false end
    local species, seen, every = {}, {}, false
    for _, v in ipairs(vets) do
      local list = type(v.skills) == 'table' and v.skills.species
      if type(list) ~= 'table' or #list == 0 then
        every = true
        break
      end
      for _, sp in ipairs(list) do
        if not seen[sp] then
          seen[sp] = true
          species[#species + 1] = sp
        end
      end
    end
    if every then
      for _, class in ipairs(URGENT_CLASSES) do ranges[#ranges + 1] = K.urgent(class) end
    else
      ranges = {}
      species[#species + 1] = ''
      for _, sp in ipairs(species) do
        ranges[#ranges + 1] = K.waitingSpecies(sp)
        for _, class in ipairs(URGENT_CLASSES) do ranges[#ranges + 1] = K.urgentSpecies(class, sp) end
      end
    end
  end
  local head, byId, truncated = {}, {}, false
  for _, key in ipairs(ranges) do
    local r = redis.call('ZRANGE', key, 0, QUEUE_HEAD_LIMIT - 1, 'WITHSCORES')
    if #r == 2 * QUEUE_HEAD_LIMIT and redis.call('ZCARD', key) > QUEUE_HEAD_LIMIT then truncated = true end
    for i = 1, #r, 2 do
      if not byId[r[i]] then
        byId[r[i]] = true
        head[#head + 1] = { id = r[i], seq = tonumber(r[i + 1]) }
      end
    end
  end
  if #ranges > 1 then table.sort(head, function(a, b) return a.seq < b.seq end) end
  return head, truncated
end

-- 1-based place of c in serving order at now among queued and offered consultations.
local function servingPosition(c, now, agingMs)
  local n = 1
  for _, other in ipairs(consultationsOf(redis.call('ZRANGE', K.queue, 0, -1))) do
    if other.id ~= c.id and servedBefore(other, c, now, agingMs) then n = n + 1 end
  end
  return n
end

-- Queue score: seq, or seq - TRANSFER_OFFSET for a transferred consultation, which puts it
-- ahead of every other (queueOrder() in src/domain/routing-store.ts). Exact in a double.
local TRANSFER_OFFSET = 1e15
local function queueScore(c)
  if c.transferred == true then return c.seq - TRANSFER_OFFSET end
  return c.seq
end

-- 1-based place among queued and offered consultations (those with a smaller queue score).
local function position(score)
  return redis.call('ZCOUNT', K.queue, '-inf', '(' .. score) + 1
end

local function setDeadline(kind, ref, at)
  redis.call('ZADD', K.deadlines, at, kind .. ':' .. ref)
end

local function delDeadlines(id, kinds)
  for _, k in ipairs(kinds) do redis.call('ZREM', K.deadlines, k .. ':' .. id) end
end

-- c joins the queue (queued or offered) with score; the app's count and its class index
-- (queueClass, for newRequestPosition) follow, once. A consultation's class does not change
-- while it is in the queue (only `transfer` sets `transferred`, from outside the queue).
local function enterQueue(c, score)
  if redis.call('ZADD', K.queue, score, c.id) == 1 then
    redis.call('HINCRBY', K.appQueued, c.appId, 1)
    redis.call('ZADD', K.queueClass(urgentClass(c) or 'n'), c.createdAt, c.id)
  end
end

-- c leaves the queue (active, or closed); the app's count and its class index follow, once.
local function leaveQueue(c)
  if redis.call('ZREM', K.queue, c.id) == 0 then return end
  redis.call('ZREM', K.queueClass(urgentClass(c) or 'n'), c.id)
  if redis.call('HINCRBY', K.appQueued, c.appId, -1) <= 0 then redis.call('HDEL', K.appQueued, c.appId) end
end

-- 1-based place in serving order at now of c, just enqueued (the largest seq, so every
-- other of its class after aging or a higher one is ahead), urgent or not: counted from
-- the class indexes, never a read of the queue (with 2,000 queued that read held Redis
-- about 9 ms for each emergency or protected request). c counts itself.
local function newRequestPosition(c, now, agingMs)
  local rank = priorityRank(c, now, agingMs)
  if rank == 3 then return redis.call('ZCARD', K.queue) end
  -- Of a class of base rank `base`, those whose rank after aging is `rank` or better.
  local function ahead(class, base)
    if base <= rank then return redis.call('ZCARD', K.queueClass(class)) end
    if agingMs <= 0 then return 0 end
    return redis.call('ZCOUNT', K.queueClass(class), '-inf', now - (base - rank) * agingMs)
  end
  local n = redis.call('ZCARD', K.queueClass('t'))
  if rank >= 1 then n = n + ahead('e', 1) + ahead('p', 2) + ahead('n', 3) end
  return n
end

-- c waits for an offer. Also indexed by species, and transferred, emergency and protected
-- requests by class (of all species and of theirs), so that the head of the queue (headOf)
-- reads each class in arrival order and skips species no free vet treats. A waiting
-- request's species, class and transfer never change.
local function addWaiting(c)
  local sp, class = speciesOf(c), urgentClass(c)
  redis.call('ZADD', K.waiting, c.seq, c.id)
  redis.call('ZADD', K.waitingSpecies(sp), c.seq, c.id)
  if class then
    redis.call('ZADD', K.urgent(class), c.seq, c.id)
    redis.call('ZADD', K.urgentSpecies(class, sp), c.seq, c.id)
  end
end

local function removeWaiting(c)
  local sp, class = speciesOf(c), urgentClass(c)
  redis.call('ZREM', K.waiting, c.id)
  redis.call('ZREM', K.waitingSpecies(sp), c.id)
  if class then
    redis.call('ZREM', K.urgent(class), c.id)
    redis.call('ZREM', K.urgentSpecies(class, sp), c.id)
  end
end

-- Returns the offer of consultation cid held by vetId to the queue, vet excluded. Mutates
-- the vet table v (when given) but does not save it: the caller does. Returns the
-- consultation reply with the released offer as "o" ({d, p, o}), or nil when vetId does not
-- hold that offer.
local function release(cid, vetId, v, setAway)
  local c, _, p = getC(cid)
  if not c or c.status ~= 'offered' or isnull(c.offer) or c.offer.vetId ~= vetId then return nil end
  local offer = cjson.encode(c.offer)
  c.status = 'queued'
  c.offer = NULL
  addWaiting(c)
  if not contains(c.excludedVetIds, vetId) then table.insert(c.excludedVetIds, vetId) end
  delDeadlines(cid, {'offer'})
  if v then
    v.offerConsultationId = NULL
    if setAway then v.status = 'away' end
  end
  return '{"d":' .. putC(c) .. ',"p":' .. p .. ',"o":' .. offer .. '}'
end

-- Installs the skills of JSON s unless v holds a higher version (an operator's later
-- change); equal versions replace. No version (stored before versions existed) counts as 0.
-- The memory store's takeSkills().
local function takeSkills(v, s)
  local skills = cjson.decode(s)
  local held = type(v.skills) == 'table' and tonumber(v.skills.version) or 0
  if held > (tonumber(skills.version) or 0) then return end
  v.skills = skills
end

local function newVet(vetId, now)
  redis.call('ZADD', K.vets, 'NX', redis.call('INCR', K.vetSeq), vetId)
  return {
    vetId = vetId, status = 'away', connections = 0, idleSince = now,
    offerConsultationId = NULL, activeConsultationIds = {},
    wrapupUntil = NULL, wrapupConsultationId = NULL,
  }
end

-- Removes every connection made through nodeId; vets left with none go offline and
-- release their offer (outcome node_dead). Runs inside one script, so exactly once.
local function cleanupNode(nodeId)
  redis.call('ZREM', K.nodes, nodeId)
  redis.call('DEL', K.nodeHeartbeat(nodeId))

  local vcKey = K.nodeVetConnections(nodeId)
  local seen, vetIds = {}, {}
  for _, m in ipairs(redis.call('SMEMBERS', vcKey)) do
    local i = string.find(m, ':', 1, true)
    local vetId, connId = string.sub(m, 1, i - 1), string.sub(m, i + 1)
    local key = K.vetConnections(vetId)
    -- A connection id re-registered through another node is not ours to drop.
    if redis.call('HGET', key, connId) == nodeId then
      redis.call('HDEL', key, connId)
      if not seen[vetId] then seen[vetId] = true; vetIds[#vetIds + 1] = vetId end
    end
  end
  redis.call('DEL', vcKey)

  -- Report vets in first-seen order, like the memory store.
  local rank = {}
  for _, id in ipairs(vetIds) do rank[id] = tonumber(redis.call('ZSCORE', K.vets, id)) or 0 end
  table.sort(vetIds, function(a, b) return rank[a] < rank[b] end)

  local offline, released = {}, {}
  for _, id in ipairs(vetIds) do
    local v = getV(id)
    if v then
      local n = redis.call('HLEN', K.vetConnections(id))
      v.connections = n
      if n == 0 then
        offline[#offline + 1] = id
        if not isnull(v.offerConsultationId) then
          local r = release(v.offerConsultationId, tonumber(id), v, false)
          if r then released[#released + 1] = '{"consultation":' .. r .. ',"vetId":' .. id .. '}' end
        end
      end
      putV(v)
    end
  end

  local ucKey = K.nodeUserConnections(nodeId)
  local useen, users = {}, {}
  for _, m in ipairs(redis.call('SMEMBERS', ucKey)) do
    local i = string.find(m, ':', 1, true)
    local j = string.find(m, ':', i + 1, true)
    local appId, userId, connId = string.sub(m, 1, i - 1), string.sub(m, i + 1, j - 1), string.sub(m, j + 1)
    local key = K.userConnections(appId, userId)
    if redis.call('HGET', key, connId) == nodeId then
      redis.call('HDEL', key, connId)
      local uk = appId .. ':' .. userId
      if not useen[uk] then useen[uk] = true; users[#users + 1] = {appId, userId} end
    end
  end
  redis.call('DEL', ucKey)

  local gone = {}
  for _, u in ipairs(users) do
    if redis.call('EXISTS', K.userConnections(u[1], u[2])) == 0 then
      gone[#gone + 1] = '{"appId":' .. u[1] .. ',"userId":' .. u[2] .. '}'
    end
  end

  return '{"nodeId":' .. cjson.encode(nodeId)
    .. ',"offlineVetIds":[' .. table.concat(offline, ',')
    .. '],"released":[' .. table.concat(released, ',')
    .. '],"disconnectedUsers":[' .. table.concat(gone, ',') .. ']}'
end
