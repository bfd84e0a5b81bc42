/**
 * The memory store's live epoch and rebuild lock (see `RoutingStore.claimRebuild`): one
 * holder at a time until its lease runs out; only the holder may set the new epoch.
 */
export class MemoryRebuildLock {
  private epoch: string | null = null;
  private lock: { token: string; until: number } | null = null;

  liveEpoch(): string | null {
    return this.epoch;
  }

  claim(token: string, ttlMs: number, now = Date.now()): boolean {
    if (this.lock && this.lock.until > now && this.lock.token !== token) return false;
    this.lock = { token, until: now + ttlMs };
    return true;
  }

  setLiveEpoch(epoch: string, token: string, now = Date.now()): boolean {
    if (this.lock?.token !== token || this.lock.until <= now) return false;
    this.epoch = epoch;
    this.lock = null;
    return true;
  }
}
