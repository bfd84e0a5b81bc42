/**
 * Warnings about an expected outage (the database or Redis away), aggregated: the first of a
 * kind and cause is logged at once, the repeats within the window as one line with a count.
 * An outage is not a bug: no stack trace, no SQL text, just what failed and why. During a
 * 3 s PostgreSQL cut 200 refused handshakes used to log 200 multi-kilobyte lines.
 */
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";

/** How long repeats of one kind and cause are counted before their summary line. */
export const OUTAGE_LOG_WINDOW_MS = 5000;

interface Pending {
  count: number;
  since: number;
  fields: Record<string, unknown>;
}

/** Aggregates expected-outage warnings per kind and cause; {@link close} flushes the counts. */
export class OutageLog {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param isOutage tells an expected outage from anything else (which is logged whole, with
   *   its stack, every time: it may be a bug)
   */
  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly isOutage: (err: unknown) => boolean = () => true,
    private readonly windowMs = OUTAGE_LOG_WINDOW_MS,
  ) {}

  /**
   * `kind` (a short fixed phrase, such as "handshake refused") failed with `err`. An outage
   * is logged now when it is the first of its kind and cause in the window, else counted.
   */
  warn(kind: string, err: unknown, fields: Record<string, unknown> = {}): void {
    if (!this.isOutage(err)) {
      this.logger.warn({ ...fields, err }, kind);
      return;
    }
    const cause = outageCause(err);
    const key = `${kind}\u0000${cause}`;
    const now = this.clock.now();
    const p = this.pending.get(key);
    if (p) {
      p.count++;
      return;
    }
    this.logger.warn({ ...fields, cause }, kind);
    this.pending.set(key, { count: 0, since: now, fields });
    this.timer ??= setTimeout(() => this.flush(), this.windowMs).unref();
  }

  /** Logs the repeats counted so far, one line per kind and cause, and starts new windows. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.clock.now();
    for (const [key, p] of this.pending) {
      const [kind, cause] = key.split("\u0000");
      if (p.count > 0)
        this.logger.warn(
          { ...p.fields, cause, repeats: p.count, window_s: Math.round((now - p.since) / 1000) },
          `${kind} (repeated)`,
        );
    }
    this.pending.clear();
  }

  close(): void {
    this.flush();
  }
}

/**
 * What caused it, short: the first error code in the `cause` chain (`ECONNREFUSED`, a
 * SQLSTATE), else the innermost message's first line (never a query's text).
 */
export function outageCause(err: unknown): string {
  let message = "unknown";
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (!(e instanceof Error)) break;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    if (!e.message.startsWith("Failed query")) message = e.message.split("\n")[0].slice(0, 120);
  }
  return message;
}
