import { createHash } from "node:crypto";
import type {
  AcceptResult,
  AssignResult,
  ClaimResult,
  EnqueueResult,
  FinishResult,
  NewLiveConsultation,
  NodeCleanup,
  QueueEntry,
  RoutingSnapshot,
  RoutingStore,
  VetRelease,
} from "../domain/routing-store.js";
import type {
  Deadline,
  DeadlineKind,
  LiveConsultation,
  OfferOutcome,
  RequestProfile,
  VetChosenStatus,
  VetPresence,
} from "../domain/types.js";

/**
 * The part of a node-redis v6 client this store uses. A `RedisClientType` (RESP2 or RESP3)
 * or a client pool satisfies it; the caller connects it and closes it.
 */
export interface RedisCommandClient {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
}

export interface RedisRoutingStoreOptions {
  client: RedisCommandClient;
  /** Every key lives under this prefix, e.g. `gw:routing:`. */
  prefix: string;
}

// ---------------------------------------------------------------------------------------
// Key layout (all under `prefix`):
//   c:{id}            string  consultation JSON without `profile` (edited by Lua)
//   cp:{id}           string  its profile JSON (opaque to Lua, see below)
//   v:{vetId}         string  VetPresence JSON (`connections` mirrors HLEN vc:{vetId})
//   vets              zset  known vets, scored by first-seen order (`vseq`)
//   vc:{vetId}        hash  connId → nodeId
//   uc:{appId}:{uid}  hash  connId → nodeId
//   n:{node}:vc       set   "{vetId}:{connId}" connected through that node
//   n:{node}:uc       set   "{appId}:{userId}:{connId}" connected through that node
//   uo:{appId}:{uid}  string  id of the user's open consultation
//   q                 zset  queued and offered consultation ids, scored by seq
//   w                 zset  the queued ones with no offer (what a routing pass can act on)
//   seq               counter (INCR) for enqueue order; vseq: first-seen order of vets
//   dl                zset  "{kind}:{ref}" scored by due time
//   nodes             zset  node id scored by heartbeat expiry (now + ttl, caller's clock)
//   node:{id}         string  last heartbeat, PX ttl (operator visibility only)
//
// The profile is kept out of Lua on purpose: cjson rounds numbers to 14 significant digits
// and turns empty arrays into `{}`, which would silently alter partner-supplied pet data.
// Lua splices the stored profile string into its JSON replies without decoding it.
// Keys are built inside the scripts (numkeys 0), so this targets a standalone Redis (or a
// primary with replicas), not Redis Cluster.
// ---------------------------------------------------------------------------------------

/** Helpers shared by every script. ARGV[1] is always the key prefix. */
const LIB = /* lua */ `
local P = ARGV[1]
local NULL = cjson.null

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
  local r = redis.call('MGET', P .. 'c:' .. id, P .. 'cp:' .. id)
  if not r[1] then return nil end
  return cjson.decode(r[1]), r[1], r[2]
end

local function putC(c)
  local d = cjson.encode(c)
  redis.call('SET', P .. 'c:' .. c.id, d)
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
  local s = redis.call('GET', P .. 'v:' .. vetId)
  if not s then return nil end
  return cjson.decode(s), s
end

local function putV(v)
  local s = cjson.encode(v)
  redis.call('SET', P .. 'v:' .. v.vetId, s)
  return s
end

-- Same rule as isEligible() in src/domain/routing-store.ts.
local function eligible(v, maxConsults)
  return v.connections > 0
    and v.status == 'available'
    and isnull(v.offerConsultationId)
    and #v.activeConsultationIds < maxConsults
    and isnull(v.wrapupUntil)
end

-- 1-based place among queued and offered consultations (those with a smaller seq).
local function position(seq)
  return redis.call('ZCOUNT', P .. 'q', '-inf', '(' .. seq) + 1
end

local function setDeadline(kind, ref, at)
  redis.call('ZADD', P .. 'dl', at, kind .. ':' .. ref)
end

local function delDeadlines(id, kinds)
  for _, k in ipairs(kinds) do redis.call('ZREM', P .. 'dl', k .. ':' .. id) end
end

-- Returns the offer of consultation cid held by vetId to the queue, vet excluded. Mutates
-- the vet table v (when given) but does not save it: the caller does. Returns the
-- consultation reply, or nil when vetId does not hold that offer.
local function release(cid, vetId, v, setAway)
  local c, _, p = getC(cid)
  if not c or c.status ~= 'offered' or isnull(c.offer) or c.offer.vetId ~= vetId then return nil end
  c.status = 'queued'
  c.offer = NULL
  redis.call('ZADD', P .. 'w', c.seq, cid)
  if not contains(c.excludedVetIds, vetId) then table.insert(c.excludedVetIds, vetId) end
  delDeadlines(cid, {'offer'})
  if v then
    v.offerConsultationId = NULL
    if setAway then v.status = 'away' end
  end
  return jc(putC(c), p)
end

local function newVet(vetId, now)
  redis.call('ZADD', P .. 'vets', 'NX', redis.call('INCR', P .. 'vseq'), vetId)
  return {
    vetId = vetId, status = 'away', connections = 0, idleSince = now,
    offerConsultationId = NULL, activeConsultationIds = {},
    wrapupUntil = NULL, wrapupConsultationId = NULL,
  }
end

-- Removes every connection made through nodeId; vets left with none go offline and
-- release their offer (outcome node_dead). Runs inside one script, so exactly once.
local function cleanupNode(nodeId)
  redis.call('ZREM', P .. 'nodes', nodeId)
  redis.call('DEL', P .. 'node:' .. nodeId)

  local vcKey = P .. 'n:' .. nodeId .. ':vc'
  local seen, vetIds = {}, {}
  for _, m in ipairs(redis.call('SMEMBERS', vcKey)) do
    local i = string.find(m, ':', 1, true)
    local vetId, connId = string.sub(m, 1, i - 1), string.sub(m, i + 1)
    local key = P .. 'vc:' .. vetId
    -- A connection id re-registered through another node is not ours to drop.
    if redis.call('HGET', key, connId) == nodeId then
      redis.call('HDEL', key, connId)
      if not seen[vetId] then seen[vetId] = true; vetIds[#vetIds + 1] = vetId end
    end
  end
  redis.call('DEL', vcKey)

  -- Report vets in first-seen order, like the memory store.
  local rank = {}
  for _, id in ipairs(vetIds) do rank[id] = tonumber(redis.call('ZSCORE', P .. 'vets', id)) or 0 end
  table.sort(vetIds, function(a, b) return rank[a] < rank[b] end)

  local offline, released = {}, {}
  for _, id in ipairs(vetIds) do
    local v = getV(id)
    if v then
      local n = redis.call('HLEN', P .. 'vc:' .. id)
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

  local ucKey = P .. 'n:' .. nodeId .. ':uc'
  local useen, users = {}, {}
  for _, m in ipairs(redis.call('SMEMBERS', ucKey)) do
    local i = string.find(m, ':', 1, true)
    local j = string.find(m, ':', i + 1, true)
    local appId, userId, connId = string.sub(m, 1, i - 1), string.sub(m, i + 1, j - 1), string.sub(m, j + 1)
    local key = P .. 'uc:' .. appId .. ':' .. userId
    if redis.call('HGET', key, connId) == nodeId then
      redis.call('HDEL', key, connId)
      local uk = appId .. ':' .. userId
      if not useen[uk] then useen[uk] = true; users[#users + 1] = {appId, userId} end
    end
  end
  redis.call('DEL', ucKey)

  local gone = {}
  for _, u in ipairs(users) do
    if redis.call('EXISTS', P .. 'uc:' .. u[1] .. ':' .. u[2]) == 0 then
      gone[#gone + 1] = '{"appId":' .. u[1] .. ',"userId":' .. u[2] .. '}'
    end
  end

  return '{"nodeId":' .. cjson.encode(nodeId)
    .. ',"offlineVetIds":[' .. table.concat(offline, ',')
    .. '],"released":[' .. table.concat(released, ',')
    .. '],"disconnectedUsers":[' .. table.concat(gone, ',') .. ']}'
end
`;

/** Script bodies. Each returns one JSON string (or a JSON literal such as `null`). */
const SCRIPTS = {
  // ARGV: prefix, nodeId, expiresAt, now, ttlMs
  heartbeat: `
local known = redis.call('ZSCORE', P .. 'nodes', ARGV[2])
redis.call('ZADD', P .. 'nodes', ARGV[3], ARGV[2])
if tonumber(ARGV[5]) > 0 then redis.call('SET', P .. 'node:' .. ARGV[2], ARGV[4], 'PX', ARGV[5]) end
if known then return 'true' end
return 'false'
`,

  // ARGV: prefix, now. Dead = expiry strictly before now. ZRANGEBYSCORE and cleanup happen
  // in the same script, so a node reaped by one caller is gone for every other caller.
  reapDeadNodes: `
local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', '(' .. ARGV[2])
local out = {}
for _, nodeId in ipairs(dead) do out[#out + 1] = cleanupNode(nodeId) end
return '[' .. table.concat(out, ',') .. ']'
`,

  // ARGV: prefix, nodeId
  removeNode: `return cleanupNode(ARGV[2])`,

  // ARGV: prefix, vetId, connId, nodeId, now
  addVetConnection: `
local vetId, connId, nodeId, now = tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = P .. 'vc:' .. vetId
local member = vetId .. ':' .. connId
local old = redis.call('HGET', key, connId)
if old and old ~= nodeId then redis.call('SREM', P .. 'n:' .. old .. ':vc', member) end
local before = redis.call('HLEN', key)
redis.call('HSET', key, connId, nodeId)
redis.call('SADD', P .. 'n:' .. nodeId .. ':vc', member)
local v = getV(vetId) or newVet(vetId, now)
if before == 0 then
  -- Coming online: away until the vet chooses available.
  v.status = 'away'
  v.idleSince = now
end
v.connections = redis.call('HLEN', key)
return putV(v)
`,

  // ARGV: prefix, vetId, connId, now
  removeVetConnection: `
local vetId, connId = tonumber(ARGV[2]), ARGV[3]
local key = P .. 'vc:' .. vetId
local v, s = getV(vetId)
local node = redis.call('HGET', key, connId)
if not v or not node then
  return '{"presence":' .. (s or 'null') .. ',"released":null}'
end
redis.call('HDEL', key, connId)
redis.call('SREM', P .. 'n:' .. node .. ':vc', vetId .. ':' .. connId)
local n = redis.call('HLEN', key)
v.connections = n
local rel = nil
if n == 0 and not isnull(v.offerConsultationId) then
  rel = release(v.offerConsultationId, vetId, v, false)
end
return '{"presence":' .. putV(v) .. ',"released":' .. (rel or 'null') .. '}'
`,

  // ARGV: prefix, vetId, status, now
  setVetStatus: `
local vetId, status, now = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local v = getV(vetId)
if not v then return '{"presence":null,"released":null}' end
local rel = nil
if status == 'available' and v.status ~= 'available' then v.idleSince = now end
if status == 'away' and not isnull(v.offerConsultationId) then
  rel = release(v.offerConsultationId, vetId, v, false)
end
v.status = status
return '{"presence":' .. putV(v) .. ',"released":' .. (rel or 'null') .. '}'
`,

  // ARGV: prefix, vetId, now
  endWrapup: `
local vetId, now = tonumber(ARGV[2]), tonumber(ARGV[3])
local v, s = getV(vetId)
if not v then return 'null' end
if isnull(v.wrapupUntil) then return s end
v.wrapupUntil = NULL
v.wrapupConsultationId = NULL
v.idleSince = now
delDeadlines(vetId, {'wrapup'})
return putV(v)
`,

  // ARGV: prefix, appId, userId, connId, nodeId
  addUserConnection: `
local appId, userId, connId, nodeId = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = P .. 'uc:' .. appId .. ':' .. userId
local member = appId .. ':' .. userId .. ':' .. connId
local old = redis.call('HGET', key, connId)
if old and old ~= nodeId then redis.call('SREM', P .. 'n:' .. old .. ':uc', member) end
redis.call('HSET', key, connId, nodeId)
redis.call('SADD', P .. 'n:' .. nodeId .. ':uc', member)
return tostring(redis.call('HLEN', key))
`,

  // ARGV: prefix, appId, userId, connId
  removeUserConnection: `
local appId, userId, connId = ARGV[2], ARGV[3], ARGV[4]
local key = P .. 'uc:' .. appId .. ':' .. userId
local node = redis.call('HGET', key, connId)
if node then
  redis.call('HDEL', key, connId)
  redis.call('SREM', P .. 'n:' .. node .. ':uc', appId .. ':' .. userId .. ':' .. connId)
end
return tostring(redis.call('HLEN', key))
`,

  // ARGV: prefix, appId, userId
  findOpenByUser: `
local id = redis.call('GET', P .. 'uo:' .. ARGV[2] .. ':' .. ARGV[3])
if not id then return 'null' end
local r = redis.call('MGET', P .. 'c:' .. id, P .. 'cp:' .. id)
if not r[1] then return 'null' end
return jc(r[1], r[2])
`,

  // ARGV: prefix, consultation JSON (no profile, no seq), profile JSON
  enqueue: `
local c = cjson.decode(ARGV[2])
local uoKey = P .. 'uo:' .. c.appId .. ':' .. c.userId
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, d, p = getC(existingId)
  if ex then
    return '{"created":false,"consultation":' .. jc(d, p) .. ',"position":' .. position(ex.seq) .. '}'
  end
end
c.seq = redis.call('INCR', P .. 'seq')
c.status = 'queued'
c.offer = NULL
local d = cjson.encode(c)
redis.call('MSET', P .. 'c:' .. c.id, d, P .. 'cp:' .. c.id, ARGV[3])
redis.call('SET', uoKey, c.id)
redis.call('ZADD', P .. 'q', c.seq, c.id)
redis.call('ZADD', P .. 'w', c.seq, c.id)
setDeadline('queue', c.id, c.queueDeadline)
return '{"created":true,"consultation":' .. jc(d, ARGV[3]) .. ',"position":' .. position(c.seq) .. '}'
`,

  // ARGV: prefix, consultation JSON, profile JSON, vetId, now, maxConsults
  assignDirect: `
local c = cjson.decode(ARGV[2])
local vetId, now, maxConsults = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local uoKey = P .. 'uo:' .. c.appId .. ':' .. c.userId
local existingId = redis.call('GET', uoKey)
if existingId then
  local ex, d, p = getC(existingId)
  if ex then return '{"ok":false,"reason":"user_has_open","existing":' .. jc(d, p) .. '}' end
end
local v = getV(vetId)
if not v or not eligible(v, maxConsults) then return '{"ok":false,"reason":"vet_not_eligible"}' end
c.seq = redis.call('INCR', P .. 'seq')
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
local d = cjson.encode(c)
redis.call('MSET', P .. 'c:' .. c.id, d, P .. 'cp:' .. c.id, ARGV[3])
redis.call('SET', uoKey, c.id)
table.insert(v.activeConsultationIds, c.id)
putV(v)
return '{"ok":true,"consultation":' .. jc(d, ARGV[3]) .. '}'
`,

  // ARGV: prefix, consultationId, vetId, now, expiresAt, maxConsults
  claimOffer: `
local cid, vetId, now, expiresAt, maxConsults =
  ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local c, _, p = getC(cid)
if not c or c.status ~= 'queued' or not isnull(c.offer) then
  return '{"ok":false,"reason":"consultation_not_queued"}'
end
local v = getV(vetId)
if not v or not eligible(v, maxConsults) then return '{"ok":false,"reason":"vet_not_eligible"}' end
if contains(c.excludedVetIds, vetId) then return '{"ok":false,"reason":"vet_excluded"}' end
c.status = 'offered'
c.offer = { vetId = vetId, offeredAt = now, expiresAt = expiresAt }
redis.call('ZREM', P .. 'w', cid)
v.offerConsultationId = cid
putV(v)
setDeadline('offer', cid, expiresAt)
return '{"ok":true,"consultation":' .. jc(putC(c), p) .. '}'
`,

  // ARGV: prefix, consultationId, vetId, now, channelSid ('' = none)
  acceptOffer: `
local cid, vetId, now, channelSid = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local c, d, p = getC(cid)
if c and c.status == 'active' and c.vetId == vetId then
  return '{"ok":true,"alreadyActive":true,"consultation":' .. jc(d, p) .. '}'
end
if not c or c.status ~= 'offered' or isnull(c.offer) or c.offer.vetId ~= vetId then
  return '{"ok":false,"reason":"no_offer"}'
end
if c.offer.expiresAt <= now then return '{"ok":false,"reason":"expired"}' end
local v = getV(vetId)
if not v then return '{"ok":false,"reason":"no_offer"}' end
c.status = 'active'
c.offer = NULL
c.vetId = vetId
c.acceptedAt = now
if channelSid ~= '' and isnull(c.channelSid) then c.channelSid = channelSid end
v.offerConsultationId = NULL
table.insert(v.activeConsultationIds, cid)
putV(v)
delDeadlines(cid, {'offer', 'queue', 'grace'})
redis.call('ZREM', P .. 'q', cid)
return '{"ok":true,"alreadyActive":false,"consultation":' .. jc(putC(c), p) .. '}'
`,

  // ARGV: prefix, consultationId, vetId, setAway ('1'|'0')
  releaseOffer: `
local cid, vetId = ARGV[2], tonumber(ARGV[3])
local v = getV(vetId)
local r = release(cid, vetId, v, ARGV[4] == '1')
if not r then return 'null' end
if v then putV(v) end
return r
`,

  // ARGV: prefix, consultationId, hasChannel, channelSid, hasRoom, roomSid
  updateSids: `
local c, _, p = getC(ARGV[2])
if not c then return 'null' end
if ARGV[3] == '1' then c.channelSid = ARGV[4] end
if ARGV[5] == '1' then c.roomSid = ARGV[6] end
return jc(putC(c), p)
`,

  // ARGV: prefix, consultationId, now, wrapupUntil ('' = none)
  finish: `
local cid, now = ARGV[2], tonumber(ARGV[3])
local wrapupUntil = nil
if ARGV[4] ~= '' then wrapupUntil = tonumber(ARGV[4]) end
local c, d, p = getC(cid)
if not c then return 'null' end
local revoked = 'null'
if not isnull(c.offer) then
  revoked = tostring(c.offer.vetId)
  local holder = getV(c.offer.vetId)
  if holder and holder.offerConsultationId == cid then
    holder.offerConsultationId = NULL
    putV(holder)
  end
end
if c.status == 'active' and not isnull(c.vetId) then
  local v = getV(c.vetId)
  if v then
    removeValue(v.activeConsultationIds, cid)
    if wrapupUntil == nil then
      if #v.activeConsultationIds == 0 and isnull(v.wrapupUntil) then v.idleSince = now end
    else
      local prev = 0
      if not isnull(v.wrapupUntil) then prev = v.wrapupUntil end
      v.wrapupUntil = math.max(prev, wrapupUntil)
      v.wrapupConsultationId = cid
      setDeadline('wrapup', v.vetId, v.wrapupUntil)
    end
    putV(v)
  end
end
delDeadlines(cid, {'offer', 'queue', 'grace'})
redis.call('DEL', P .. 'c:' .. cid, P .. 'cp:' .. cid)
redis.call('ZREM', P .. 'q', cid)
redis.call('ZREM', P .. 'w', cid)
local uoKey = P .. 'uo:' .. c.appId .. ':' .. c.userId
if redis.call('GET', uoKey) == cid then redis.call('DEL', uoKey) end
return '{"consultation":' .. jc(d, p) .. ',"revokedOfferVetId":' .. revoked
  .. ',"waiting":' .. redis.call('ZCARD', P .. 'w') .. '}'
`,

  // ARGV: prefix, now, limit. Range and removal in one script: each deadline fires once.
  claimDue: `
local r = redis.call('ZRANGEBYSCORE', P .. 'dl', '-inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #r, 2 do
  local m = r[i]
  redis.call('ZREM', P .. 'dl', m)
  local sep = string.find(m, ':', 1, true)
  out[#out + 1] = '{"kind":' .. cjson.encode(string.sub(m, 1, sep - 1))
    .. ',"ref":' .. cjson.encode(string.sub(m, sep + 1)) .. ',"at":' .. r[i + 1] .. '}'
end
return '[' .. table.concat(out, ',') .. ']'
`,

  // ARGV: prefix. The hot read: one round trip, no JSON work in Lua. Returns an array
  // reply {{core1, core2, ...}, {vet1, vet2, ...}} rather than one concatenated string:
  // building a large string in Lua cost Redis twice the time. Profiles stay behind:
  // planning does not need them and they are most of the bytes.
  snapshot: `
local keys = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'q', 0, -1)) do
  keys[#keys + 1] = P .. 'c:' .. id
end
local vkeys = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'vets', 0, -1)) do vkeys[#vkeys + 1] = P .. 'v:' .. id end
return { mgetInto({}, keys), mgetInto({}, vkeys) }
`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

interface LoadedScript {
  source: string;
  sha: string;
}

const LOADED: Record<ScriptName, LoadedScript> = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, body]) => {
    const source = `${LIB}\n${body}`;
    return [name, { source, sha: createHash("sha1").update(source).digest("hex") }];
  }),
) as Record<ScriptName, LoadedScript>;

// ---------- wire formats (what the scripts return) ----------

type StoredConsultation = Omit<LiveConsultation, "profile">;
interface WireConsultation {
  d: StoredConsultation;
  p: RequestProfile;
}
type WireCleanup = Omit<NodeCleanup, "released"> & {
  released: Array<{ consultation: WireConsultation; vetId: number }>;
};

/** cjson encodes an empty Lua table as `{}`: anything not an array is an empty list. */
function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function toConsultation(w: WireConsultation): LiveConsultation {
  return { ...toQueueEntry(w.d), profile: w.p };
}

function toQueueEntry(d: StoredConsultation): QueueEntry {
  return {
    id: d.id,
    appId: d.appId,
    userId: d.userId,
    petId: d.petId ?? null,
    type: d.type,
    status: d.status,
    seq: d.seq,
    createdAt: d.createdAt,
    queueDeadline: d.queueDeadline,
    requestedVetId: d.requestedVetId ?? null,
    offer: d.offer ? { vetId: d.offer.vetId, offeredAt: d.offer.offeredAt, expiresAt: d.offer.expiresAt } : null,
    excludedVetIds: list<number>(d.excludedVetIds),
    vetId: d.vetId ?? null,
    acceptedAt: d.acceptedAt ?? null,
    channelSid: d.channelSid ?? null,
    roomSid: d.roomSid ?? null,
  };
}

function toConsultationOrNull(w: WireConsultation | null): LiveConsultation | null {
  return w ? toConsultation(w) : null;
}

function toVet(v: VetPresence): VetPresence {
  return {
    vetId: v.vetId,
    status: v.status,
    connections: v.connections,
    idleSince: v.idleSince,
    offerConsultationId: v.offerConsultationId ?? null,
    activeConsultationIds: list<string>(v.activeConsultationIds),
    wrapupUntil: v.wrapupUntil ?? null,
    wrapupConsultationId: v.wrapupConsultationId ?? null,
  };
}

function toVetOrNull(v: VetPresence | null): VetPresence | null {
  return v ? toVet(v) : null;
}

function toCleanup(w: WireCleanup): NodeCleanup {
  return {
    nodeId: w.nodeId,
    offlineVetIds: list<number>(w.offlineVetIds),
    released: list<{ consultation: WireConsultation; vetId: number }>(w.released).map((r) => ({
      consultation: toConsultation(r.consultation),
      vetId: r.vetId,
    })),
    disconnectedUsers: list<{ appId: number; userId: number }>(w.disconnectedUsers),
  };
}

/** The consultation minus what Lua must not touch (profile) or assigns itself (seq). */
function splitNew(c: NewLiveConsultation): [core: string, profile: string] {
  const { profile, ...core } = c as NewLiveConsultation & { seq?: number };
  delete core.seq;
  return [JSON.stringify(core), JSON.stringify(profile ?? null)];
}

/** Script and GET replies are bulk strings (Buffers only under a custom type mapping). */
function text(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  throw new TypeError(`unexpected Redis reply: ${typeof reply}`);
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("NOSCRIPT");
}

/**
 * {@link RoutingStore} in Redis, shared by every gateway node.
 *
 * Each state change is a single Lua script (EVALSHA, falling back to EVAL when Redis does
 * not have it cached, e.g. after a restart or SCRIPT FLUSH). Redis runs a script without
 * interleaving any other command, so preconditions and updates cannot race across nodes:
 * of two nodes calling `claimOffer` for the same consultation or vet, one wins and the
 * other gets a refusal. Reads that must be consistent (`snapshot`, `findOpenByUser`) are
 * scripts too, so they cost one round trip.
 *
 * Times are the caller's (`now` arguments), never Redis time, so an injected clock drives
 * deadlines and node liveness alike. The client is the caller's: `close()` leaves it open.
 */
export class RedisRoutingStore implements RoutingStore {
  private readonly client: RedisCommandClient;
  private readonly prefix: string;

  constructor(opts: RedisRoutingStoreOptions) {
    this.client = opts.client;
    this.prefix = opts.prefix;
  }

  /** Loads every script into Redis' cache ahead of time (optional: calls fall back to EVAL). */
  async loadScripts(): Promise<void> {
    await Promise.all(Object.values(LOADED).map((s) => this.client.sendCommand(["SCRIPT", "LOAD", s.source])));
  }

  /** Runs a script by SHA; when Redis lacks it, EVAL (which also caches it for next time). */
  private async call(name: ScriptName, args: Array<string | number>): Promise<unknown> {
    const script = LOADED[name];
    const tail = ["0", this.prefix, ...args.map(String)];
    try {
      return await this.client.sendCommand(["EVALSHA", script.sha, ...tail]);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return await this.client.sendCommand(["EVAL", script.source, ...tail]);
    }
  }

  /** Runs a script that returns one JSON string, and parses it. */
  private async run<T>(name: ScriptName, args: Array<string | number>): Promise<T> {
    return JSON.parse(text(await this.call(name, args))) as T;
  }

  private key(k: string): string {
    return this.prefix + k;
  }

  // ---------- nodes ----------

  async heartbeat(nodeId: string, now: number, ttlMs: number): Promise<boolean> {
    return this.run<boolean>("heartbeat", [nodeId, now + ttlMs, now, Math.floor(ttlMs)]);
  }

  async reapDeadNodes(now: number): Promise<NodeCleanup[]> {
    return list<WireCleanup>(await this.run<unknown>("reapDeadNodes", [now])).map(toCleanup);
  }

  async removeNode(nodeId: string, _now: number): Promise<NodeCleanup> {
    return toCleanup(await this.run<WireCleanup>("removeNode", [nodeId]));
  }

  // ---------- vets ----------

  async addVetConnection(vetId: number, connId: string, nodeId: string, now: number): Promise<VetPresence> {
    return toVet(await this.run<VetPresence>("addVetConnection", [vetId, connId, nodeId, now]));
  }

  async removeVetConnection(vetId: number, connId: string, now: number): Promise<VetRelease> {
    return this.toRelease(await this.run("removeVetConnection", [vetId, connId, now]));
  }

  async setVetStatus(vetId: number, status: VetChosenStatus, now: number): Promise<VetRelease> {
    return this.toRelease(await this.run("setVetStatus", [vetId, status, now]));
  }

  private toRelease(w: { presence: VetPresence | null; released: WireConsultation | null }): VetRelease {
    return { presence: toVetOrNull(w.presence), released: toConsultationOrNull(w.released) };
  }

  async endWrapup(vetId: number, now: number): Promise<VetPresence | null> {
    return toVetOrNull(await this.run<VetPresence | null>("endWrapup", [vetId, now]));
  }

  async getVet(vetId: number): Promise<VetPresence | null> {
    const s = await this.client.sendCommand(["GET", this.key(`v:${vetId}`)]);
    return s == null ? null : toVet(JSON.parse(text(s)) as VetPresence);
  }

  // ---------- users ----------

  async addUserConnection(appId: number, userId: number, connId: string, nodeId: string): Promise<number> {
    return this.run<number>("addUserConnection", [appId, userId, connId, nodeId]);
  }

  async removeUserConnection(appId: number, userId: number, connId: string): Promise<number> {
    return this.run<number>("removeUserConnection", [appId, userId, connId]);
  }

  async findOpenByUser(appId: number, userId: number): Promise<LiveConsultation | null> {
    return toConsultationOrNull(await this.run<WireConsultation | null>("findOpenByUser", [appId, userId]));
  }

  // ---------- consultations ----------

  async enqueue(c: NewLiveConsultation): Promise<EnqueueResult> {
    const w = await this.run<{ created: boolean; consultation: WireConsultation; position: number }>(
      "enqueue",
      splitNew(c),
    );
    return { created: w.created, consultation: toConsultation(w.consultation), position: w.position };
  }

  async assignDirect(c: NewLiveConsultation, vetId: number, now: number, maxConsults: number): Promise<AssignResult> {
    const w = await this.run<
      | { ok: true; consultation: WireConsultation }
      | { ok: false; reason: "vet_not_eligible" | "user_has_open"; existing?: WireConsultation }
    >("assignDirect", [...splitNew(c), vetId, now, maxConsults]);
    if (w.ok) return { ok: true, consultation: toConsultation(w.consultation) };
    return w.existing ? { ok: false, reason: w.reason, existing: toConsultation(w.existing) } : { ok: false, reason: w.reason };
  }

  async getConsultation(id: string): Promise<LiveConsultation | null> {
    const r = await this.client.sendCommand(["MGET", this.key(`c:${id}`), this.key(`cp:${id}`)]);
    const [d, p] = Array.isArray(r) ? (r as unknown[]) : [];
    if (d == null) return null;
    return toConsultation({ d: JSON.parse(text(d)) as StoredConsultation, p: JSON.parse(text(p)) as RequestProfile });
  }

  async claimOffer(
    consultationId: string,
    vetId: number,
    now: number,
    expiresAt: number,
    maxConsults: number,
  ): Promise<ClaimResult> {
    const w = await this.run<
      { ok: true; consultation: WireConsultation } | { ok: false; reason: "consultation_not_queued" | "vet_not_eligible" | "vet_excluded" }
    >("claimOffer", [consultationId, vetId, now, expiresAt, maxConsults]);
    return w.ok ? { ok: true, consultation: toConsultation(w.consultation) } : w;
  }

  async acceptOffer(consultationId: string, vetId: number, now: number, channelSid?: string): Promise<AcceptResult> {
    const w = await this.run<
      { ok: true; consultation: WireConsultation; alreadyActive: boolean } | { ok: false; reason: "no_offer" | "expired" }
    >("acceptOffer", [consultationId, vetId, now, channelSid ?? ""]);
    return w.ok ? { ok: true, consultation: toConsultation(w.consultation), alreadyActive: w.alreadyActive } : w;
  }

  async releaseOffer(
    consultationId: string,
    vetId: number,
    _outcome: OfferOutcome,
    _now: number,
    opts: { setAway?: boolean } = {},
  ): Promise<LiveConsultation | null> {
    const w = await this.run<WireConsultation | null>("releaseOffer", [consultationId, vetId, opts.setAway ? "1" : "0"]);
    return toConsultationOrNull(w);
  }

  async updateSids(
    consultationId: string,
    sids: { channelSid?: string; roomSid?: string },
  ): Promise<LiveConsultation | null> {
    const w = await this.run<WireConsultation | null>("updateSids", [
      consultationId,
      sids.channelSid !== undefined ? "1" : "0",
      sids.channelSid ?? "",
      sids.roomSid !== undefined ? "1" : "0",
      sids.roomSid ?? "",
    ]);
    return toConsultationOrNull(w);
  }

  async finish(consultationId: string, now: number, wrapupUntil: number | null): Promise<FinishResult | null> {
    const w = await this.run<{ consultation: WireConsultation; revokedOfferVetId: number | null; waiting: number } | null>(
      "finish",
      [consultationId, now, wrapupUntil === null ? "" : wrapupUntil],
    );
    return w ? { ...w, consultation: toConsultation(w.consultation) } : null;
  }

  // ---------- deadlines ----------

  async addDeadline(kind: DeadlineKind, ref: string, at: number): Promise<void> {
    // A single command is atomic already; re-adding moves the deadline (like the memory store).
    await this.client.sendCommand(["ZADD", this.key("dl"), String(at), `${kind}:${ref}`]);
  }

  async removeDeadline(kind: DeadlineKind, ref: string): Promise<void> {
    await this.client.sendCommand(["ZREM", this.key("dl"), `${kind}:${ref}`]);
  }

  async claimDue(now: number, limit: number): Promise<Deadline[]> {
    // LIMIT 0 -1 would mean "all" to Redis; the memory store's slice(0, n ≤ 0) is not "all".
    if (limit <= 0) return [];
    return list<Deadline>(await this.run<unknown>("claimDue", [now, Math.floor(limit)]));
  }

  // ---------- reads ----------

  async snapshot(): Promise<RoutingSnapshot> {
    const [cs, vs] = list<unknown>(await this.call("snapshot", []));
    const queue: QueueEntry[] = [];
    for (const c of list<unknown>(cs)) if (c != null) queue.push(toQueueEntry(JSON.parse(text(c)) as StoredConsultation));
    const vets: VetPresence[] = [];
    for (const v of list<unknown>(vs)) if (v != null) vets.push(toVet(JSON.parse(text(v)) as VetPresence));
    return { queue, vets };
  }

  close(): Promise<void> {
    // The client belongs to the caller.
    return Promise.resolve();
  }
}
