import type { Deadline, DeadlineKind } from "../../domain/types.js";

/** The memory store's deadlines: at most one of each kind per ref, a later one replacing it. */
export class MemoryDeadlines {
  private readonly byKey = new Map<string, Deadline>();

  set(kind: DeadlineKind, ref: string, at: number): void {
    this.byKey.set(keyOf(kind, ref), { kind, ref, at });
  }

  delete(kind: DeadlineKind, ref: string): void {
    this.byKey.delete(keyOf(kind, ref));
  }

  /** Removes and returns up to `limit` deadlines due at `now`, earliest first. */
  claimDue(now: number, limit: number): Deadline[] {
    const due = [...this.byKey.values()]
      .filter((d) => d.at <= now)
      .sort((a, b) => a.at - b.at)
      .slice(0, limit);
    for (const d of due) this.byKey.delete(keyOf(d.kind, d.ref));
    return due;
  }
}

const keyOf = (kind: DeadlineKind, ref: string) => `${kind}:${ref}`;
