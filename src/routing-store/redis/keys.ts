/**
 * Every Redis key of the routing store, under one prefix (e.g. `gw:rt:`). The Lua commands
 * build the same names in `commands/includes/lib.lua` (table `K`); a test checks the two agree.
 *
 * | name                     | key                    | type    | holds                                          |
 * | ------------------------ | ---------------------- | ------- | ---------------------------------------------- |
 * | consultation(id)         | `c:{id}`               | string  | consultation JSON without `profile` (Lua edits) |
 * | consultationProfile(id)  | `cp:{id}`              | string  | its profile JSON (opaque to Lua)               |
 * | vet(vetId)               | `v:{vetId}`            | string  | VetPresence JSON (`connections` = HLEN vc:)    |
 * | vets                     | `vets`                 | zset    | known vets, scored by first-seen order         |
 * | vetSeq                   | `vseq`                 | counter | first-seen order of vets                       |
 * | vetConnections(vetId)    | `vc:{vetId}`           | hash    | connId → nodeId                                |
 * | userConnections(a, u)    | `uc:{appId}:{userId}`  | hash    | connId → nodeId                                |
 * | userOpen(a, u)           | `uo:{appId}:{userId}`  | string  | id of the user's open consultation             |
 * | nodeVetConnections(n)    | `n:{node}:vc`          | set     | "{vetId}:{connId}" connected through the node  |
 * | nodeUserConnections(n)   | `n:{node}:uc`          | set     | "{appId}:{userId}:{connId}" through the node   |
 * | queue                    | `q`                    | zset    | queued and offered consultation ids, by seq    |
 * | appQueued                | `aq`                   | hash    | appId → how many of its consultations are in queue |
 * | queueClass(class)        | `qc:{t,e,p,n}`         | zset    | those in queue transferred, emergency, protected, other, by createdAt |
 * | waiting                  | `w`                    | zset    | the queued ones with no offer, by seq          |
 * | waitingSpecies(s)        | `ws:{species}`         | zset    | those of them of one species (`ws:` none), by seq |
 * | urgent(class)            | `wu:{t,e,p}`           | zset    | those of them transferred, emergency, protected |
 * | urgentSpecies(class, s)  | `wu:{class}:{species}` | zset    | the same, of one species                       |
 * | seq                      | `seq`                  | counter | enqueue order                                  |
 * | deadlines                | `dl`                   | zset    | "{kind}:{ref}" scored by due time              |
 * | nodes                    | `nodes`                | zset    | node id scored by heartbeat expiry             |
 * | nodeHeartbeat(n)         | `node:{id}`            | string  | last heartbeat, PX ttl (operators only)        |
 * | epoch                    | `epoch`                | string  | live-state epoch marker; missing = lost (rebuild) |
 * | rebuildLock              | `rebuild`              | string  | token of the node rebuilding, PX ttl           |
 */
export interface RoutingKeys {
  consultation(id: string): string;
  consultationProfile(id: string): string;
  vet(vetId: number): string;
  vets: string;
  vetSeq: string;
  vetConnections(vetId: number): string;
  userConnections(appId: number, userId: number): string;
  userOpen(appId: number, userId: number): string;
  nodeVetConnections(nodeId: string): string;
  nodeUserConnections(nodeId: string): string;
  queue: string;
  appQueued: string;
  queueClass(queueClass: "t" | "e" | "p" | "n"): string;
  waiting: string;
  waitingSpecies(species: string): string;
  urgent(urgentClass: "t" | "e" | "p"): string;
  urgentSpecies(urgentClass: "t" | "e" | "p", species: string): string;
  seq: string;
  deadlines: string;
  nodes: string;
  nodeHeartbeat(nodeId: string): string;
  epoch: string;
  rebuildLock: string;
}

/** The key names under `prefix`. */
export function routingKeys(prefix: string): RoutingKeys {
  const p = prefix;
  return {
    consultation: (id) => `${p}c:${id}`,
    consultationProfile: (id) => `${p}cp:${id}`,
    vet: (vetId) => `${p}v:${vetId}`,
    vets: `${p}vets`,
    vetSeq: `${p}vseq`,
    vetConnections: (vetId) => `${p}vc:${vetId}`,
    userConnections: (appId, userId) => `${p}uc:${appId}:${userId}`,
    userOpen: (appId, userId) => `${p}uo:${appId}:${userId}`,
    nodeVetConnections: (nodeId) => `${p}n:${nodeId}:vc`,
    nodeUserConnections: (nodeId) => `${p}n:${nodeId}:uc`,
    queue: `${p}q`,
    appQueued: `${p}aq`,
    queueClass: (queueClass) => `${p}qc:${queueClass}`,
    waiting: `${p}w`,
    waitingSpecies: (species) => `${p}ws:${species}`,
    urgent: (urgentClass) => `${p}wu:${urgentClass}`,
    urgentSpecies: (urgentClass, species) => `${p}wu:${urgentClass}:${species}`,
    seq: `${p}seq`,
    deadlines: `${p}dl`,
    nodes: `${p}nodes`,
    nodeHeartbeat: (nodeId) => `${p}node:${nodeId}`,
    epoch: `${p}epoch`,
    rebuildLock: `${p}rebuild`,
  };
}
