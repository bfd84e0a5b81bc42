/**
 * The connection bookkeeping of the memory store: which connections each vet and each user
 * has, the node holding each, and until when each node is alive. Knows nothing of routing:
 * the store decides what a vet's or user's last connection going means.
 */
export class MemoryConnections {
  /** vetId → (connId → nodeId); a vet's map stays when emptied. */
  private readonly vets = new Map<number, Map<string, string>>();
  /** `appId:userId` → (connId → nodeId) */
  private readonly users = new Map<string, Map<string, string>>();
  /** nodeId → alive until (epoch ms) */
  private readonly nodes = new Map<string, number>();

  /** The node is alive until `until`; true when it was known already. */
  heartbeat(nodeId: string, until: number): boolean {
    const known = this.nodes.has(nodeId);
    this.nodes.set(nodeId, until);
    return known;
  }

  /** Nodes whose heartbeat ran out before `now`. */
  deadNodes(now: number): string[] {
    return [...this.nodes].filter(([, until]) => until < now).map(([id]) => id);
  }

  /**
   * Forgets the node and every connection it held. Returns each vet it held a connection of,
   * with how many that vet has left, and the users it left with none.
   */
  dropNode(nodeId: string): {
    vets: Array<{ vetId: number; remaining: number }>;
    usersGone: Array<{ appId: number; userId: number }>;
  } {
    this.nodes.delete(nodeId);
    const vets: Array<{ vetId: number; remaining: number }> = [];
    for (const [vetId, conns] of this.vets) {
      if (dropConnectionsOf(conns, nodeId)) vets.push({ vetId, remaining: conns.size });
    }
    const usersGone: Array<{ appId: number; userId: number }> = [];
    for (const [key, conns] of this.users) {
      if (dropConnectionsOf(conns, nodeId) && conns.size === 0) {
        const [appId, userId] = key.split(":").map(Number) as [number, number];
        usersGone.push({ appId, userId });
        this.users.delete(key);
      }
    }
    return { vets, usersGone };
  }

  /** Adds a vet's connection: how many it has now, and whether it had none before. */
  addVet(vetId: number, connId: string, nodeId: string): { count: number; wasOffline: boolean } {
    let conns = this.vets.get(vetId);
    if (!conns) this.vets.set(vetId, (conns = new Map<string, string>()));
    const wasOffline = conns.size === 0;
    conns.set(connId, nodeId);
    return { count: conns.size, wasOffline };
  }

  /** Removes a vet's connection: how many it has left, or null when it did not have this one. */
  removeVet(vetId: number, connId: string): number | null {
    const conns = this.vets.get(vetId);
    return conns?.delete(connId) ? conns.size : null;
  }

  vetCount(vetId: number): number {
    return this.vets.get(vetId)?.size ?? 0;
  }

  /** Adds a user's connection: how many it has now. */
  addUser(appId: number, userId: number, connId: string, nodeId: string): number {
    const key = userKey(appId, userId);
    let conns = this.users.get(key);
    if (!conns) this.users.set(key, (conns = new Map<string, string>()));
    conns.set(connId, nodeId);
    return conns.size;
  }

  userCount(appId: number, userId: number): number {
    return this.users.get(userKey(appId, userId))?.size ?? 0;
  }

  /** Removes a user's connection: how many it has left. */
  removeUser(appId: number, userId: number, connId: string): number {
    const key = userKey(appId, userId);
    const conns = this.users.get(key);
    if (!conns) return 0;
    conns.delete(connId);
    if (conns.size === 0) this.users.delete(key);
    return conns.size;
  }
}

/** The key of a user in the memory store's maps. */
export const userKey = (appId: number, userId: number) => `${appId}:${userId}`;

/** Deletes the connections `nodeId` held; true when there were any. */
function dropConnectionsOf(conns: Map<string, string>, nodeId: string): boolean {
  let dropped = false;
  for (const [connId, node] of conns) {
    if (node !== nodeId) continue;
    conns.delete(connId);
    dropped = true;
  }
  return dropped;
}
