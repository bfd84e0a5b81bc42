/**
 * Every Redis key of the routing store, under one prefix (e.g. `gw:rt:`). The Lua commands
 * build the same names in `commands/includes/keys.lua` (table `Keys`, same names as here);
 * a test checks the two agree. The stored names are short and stay as they are: a rename
 * would orphan a running deployment's live state.
 *
 * "Writes" names the commands (`commands/*.lua`) that change the key, through the helper of
 * `commands/includes/` in brackets where there is one. Reads are not listed.
 *
 * | name                       | stored key               | type    | holds                                                   | writes |
 * | -------------------------- | ------------------------ | ------- | ------------------------------------------------------- | ------ |
 * | `consultation(id)`         | `c:{id}`                 | string  | an open consultation's JSON without `profile` (Lua edits it) | enqueue, assignDirect, restore; claimOffer, acceptOffer, revertAccept, transfer, updateSids and every release of an offer (`putConsultation`, `releaseOffer`); finish deletes |
 * | `consultationProfile(id)`  | `cp:{id}`                | string  | its profile JSON (opaque to Lua: never decoded)         | enqueue, assignDirect, restore; finish deletes |
 * | `userOpen(appId, userId)`  | `uo:{appId}:{userId}`    | string  | id of the user's open consultation                      | enqueue, assignDirect, restore; finish deletes it while it names that one |
 * | `vet(vetId)`               | `v:{vetId}`              | string  | VetPresence JSON (`connections` = HLEN of `vc:`)        | every command that changes a vet: addVetConnection, removeVetConnection, setVetStatus, setVetSkills, endWrapup, assignDirect, claimOffer, acceptOffer, revertAccept, releaseOffer, finish, transfer, restore, restoreWrapup, reapDeadNodes, removeNode (`putVet`, `newVet`) |
 * | `vets`                     | `vets`                   | zset    | every vet ever seen, scored by first-seen order         | addVetConnection, setVetSkills, restore, restoreWrapup (`newVet`); never removed |
 * | `vetSeq`                   | `vseq`                   | counter | the last first-seen order given                         | as `vets` (`newVet`) |
 * | `vetConnections(vetId)`    | `vc:{vetId}`             | hash    | the vet's socket connections: connId → nodeId           | addVetConnection, removeVetConnection, reapDeadNodes, removeNode (`cleanupNode`) |
 * | `userConnections(a, u)`    | `uc:{appId}:{userId}`    | hash    | the user's socket connections: connId → nodeId          | addUserConnection, removeUserConnection, reapDeadNodes, removeNode (`cleanupNode`) |
 * | `nodeVetConnections(n)`    | `n:{nodeId}:vc`          | set     | "{vetId}:{connId}" of each vet connection through node n | addVetConnection, removeVetConnection; reapDeadNodes, removeNode delete (`cleanupNode`) |
 * | `nodeUserConnections(n)`   | `n:{nodeId}:uc`          | set     | "{appId}:{userId}:{connId}" of each user connection through n | addUserConnection, removeUserConnection; reapDeadNodes, removeNode delete (`cleanupNode`) |
 * | `queue`                    | `q`                      | zset    | queued and offered consultation ids, by queue score (seq; transferred ones seq - 1e15) | enqueue, restore, revertAccept, transfer add (`enterQueue`); acceptOffer, finish remove (`leaveQueue`) |
 * | `appQueued`                | `aq`                     | hash    | appId → how many of its consultations are in `q`        | as `queue` |
 * | `queueClass(class)`        | `qc:{t,e,p,n}`           | zset    | those in `q` transferred, emergency, protected, the others, by createdAt | as `queue` |
 * | `waiting`                  | `w`                      | zset    | the queued ones with no offer, by seq                   | enqueue, restore, revertAccept, transfer and every release of an offer add (`addWaiting`, `releaseOffer`); claimOffer, finish remove (`removeWaiting`) |
 * | `waitingSpecies(species)`  | `ws:{species}`           | zset    | those of them of one species (`ws:` none), by seq       | as `waiting` |
 * | `urgent(class)`            | `wu:{t,e,p}`             | zset    | those of them transferred, emergency, protected, by seq | as `waiting` |
 * | `urgentSpecies(class, s)`  | `wu:{class}:{species}`   | zset    | the same, of one species, by seq                        | as `waiting` |
 * | `seq`                      | `seq`                    | counter | the last enqueue order given                            | enqueue, assignDirect (INCR); restore raises it to a restored seq |
 * | `deadlines`                | `dl`                     | zset    | "{kind}:{ref}" scored by due time                       | enqueue, restore, claimOffer, acceptOffer, revertAccept, transfer, finish, endWrapup, restoreWrapup and every release of an offer (`setDeadline`, `removeDeadlines`); claimDue pops; `RedisRoutingStore.addDeadline`/`removeDeadline` (ZADD/ZREM from TypeScript) |
 * | `nodes`                    | `nodes`                  | zset    | gateway node ids, scored by heartbeat expiry            | heartbeat; reapDeadNodes, removeNode remove (`cleanupNode`) |
 * | `nodeHeartbeat(n)`         | `node:{nodeId}`          | string  | the node's last heartbeat time, PX ttl (for operators; routing reads `nodes`) | heartbeat; reapDeadNodes, removeNode delete (`cleanupNode`) |
 * | `epoch`                    | `epoch`                  | string  | live-state epoch marker; missing = live state lost (rebuild) | setLiveEpoch |
 * | `rebuildLock`              | `rebuild`                | string  | token of the node rebuilding live state, PX ttl         | claimRebuild; setLiveEpoch deletes |
 *
 * "Every release of an offer" is `releaseOffer` of `includes/offers.lua`: the releaseOffer
 * command, setVetStatus (away), removeVetConnection (last connection), reapDeadNodes and
 * removeNode. Counters are strings holding an integer (INCR).
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
