/**
 * `GET /admin/v1/stats/history`: one sample of the live counts per step (10 s) over the last
 * hour, with the match latency of the step before. With Redis the samples and the latencies
 * live there, so every node answers the same and the cluster takes one sample per step (the
 * node that wins a `SET NX` on the step's key); without Redis they live in this process.
 *
 * Latencies reach Redis in batches (one RPUSH per step per flush, at most every
 * `LATENCY_FLUSH_MS`), not one round trip per match; a step is sampled only once every node
 * has had time to flush the step before it.
 */
import type { Clock } from "../lib/clock.js";
import type { Logger } from "../lib/logger.js";
import type { RedisCommands } from "../lib/redis-commands.js";

/** Live counts, as `GET /admin/v1/stats` answers them. */
export interface CountsSource {
  stats(): Promise<{
    queue_length: number;
    waiting_advice: number;
    vets: Record<string, number>;
    open_consultations: number;
  }>;
}

/** One step of the history. */
export interface StatsSample {
  /** ISO-8601 start of the step; the counts were read at (or just after) this instant. */
  t: string;
  queue_length: number;
  /** Of `queue_length`, advice requests; absent in samples from before licensing. */
  waiting_advice?: number;
  vets: Record<string, number>;
  open_consultations: number;
  /** Matches (accepts and REST assignments) in the step before `t`. */
  matches: number;
  /** Request-to-match time of those matches in ms; null when there were none. */
  match_latency_ms: { p50: number; p95: number; max: number } | null;
}

/** The `data` of `GET /admin/v1/stats/history`: samples oldest first. */
export interface StatsHistoryData {
  step_s: number;
  window_s: number;
  samples: StatsSample[];
}

export interface StatsHistory {
  /** Notes one match's latency (fire and forget; stored with the next flush). */
  recordMatch(ms: number): void;
  /** Takes this step's sample unless this node or another already has. Call it often (≤ step). */
  tick(): Promise<void>;
  history(): Promise<StatsHistoryData>;
  /** Stores the latencies still buffered and stops the flush timer (before Redis closes). */
  close(): Promise<void>;
}

export interface StatsHistoryOptions {
  source: CountsSource;
  clock: Clock;
  logger: Logger;
  /** Shared storage; null keeps the history in memory (single node). */
  redis: RedisCommands | null;
  /** Key prefix in Redis, e.g. `vcg:`. */
  prefix?: string;
  stepMs?: number;
  windowMs?: number;
  /** How long latencies are buffered before one write to Redis; default {@link LATENCY_FLUSH_MS}. */
  flushMs?: number;
}

/** Buffering of latencies before they go to Redis: a few writes a second instead of one per match. */
export const LATENCY_FLUSH_MS = 250;

const ZERO_VETS = { available: 0, away: 0, busy: 0, offline: 0 };

/** Nearest-rank percentile of ascending `sorted` (non-empty). */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Latency summary of one step's matches. */
export function summarize(latencies: number[]): Pick<StatsSample, "matches" | "match_latency_ms"> {
  if (latencies.length === 0) return { matches: 0, match_latency_ms: null };
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    matches: sorted.length,
    match_latency_ms: {
      p50: Math.round(percentile(sorted, 0.5)),
      p95: Math.round(percentile(sorted, 0.95)),
      max: Math.round(sorted.at(-1)!),
    },
  };
}

/** Builds the history over Redis when given, else in memory. */
export function createStatsHistory(opts: StatsHistoryOptions): StatsHistory {
  const stepMs = opts.stepMs ?? 10_000;
  const windowMs = opts.windowMs ?? 3_600_000;
  const windowSteps = Math.ceil(windowMs / stepMs);
  const stepOf = (t: number) => Math.floor(t / stepMs);
  const flushMs = opts.flushMs ?? LATENCY_FLUSH_MS;
  const store = opts.redis ? redisStore(opts.redis, opts.prefix ?? "", stepMs, windowSteps) : memoryStore(windowSteps);
  // Other nodes flush within flushMs (plus a round trip): the sampler of a step waits that long.
  const settleMs = opts.redis ? 2 * flushMs : 0;
  const buffered = new Map<number, number[]>();
  let flushTimer: NodeJS.Timeout | null = null;
  let lastStep = -1;

  const flush = async (): Promise<void> => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    const batches = [...buffered];
    buffered.clear();
    await Promise.all(
      batches.map(([step, list]) =>
        store
          .addLatencies(step, list)
          .catch((err: unknown) =>
            opts.logger.warn({ err, count: list.length }, "stats history: latencies not stored"),
          ),
      ),
    );
  };

  return {
    recordMatch(ms) {
      const step = stepOf(opts.clock.now());
      const list = buffered.get(step);
      if (list) list.push(ms);
      else buffered.set(step, [ms]);
      if (!flushTimer) {
        flushTimer = setTimeout(() => void flush(), flushMs);
        flushTimer.unref();
      }
    },
    async tick() {
      await flush();
      const now = opts.clock.now();
      const step = stepOf(now);
      if (step === lastStep || now - step * stepMs < settleMs) return;
      lastStep = step;
      try {
        if (!(await store.claim(step))) return;
        const [counts, latencies] = await Promise.all([opts.source.stats(), store.latencies(step - 1)]);
        const sample: StatsSample = {
          t: new Date(step * stepMs).toISOString(),
          queue_length: counts.queue_length,
          waiting_advice: counts.waiting_advice,
          vets: { ...ZERO_VETS, ...counts.vets },
          open_consultations: counts.open_consultations,
          ...summarize(latencies),
        };
        await store.add(step, sample);
      } catch (err) {
        opts.logger.warn({ err }, "stats history: sample not taken");
      }
    },
    async history() {
      const samples = await store.since(stepOf(opts.clock.now()) - windowSteps + 1);
      return { step_s: stepMs / 1000, window_s: windowMs / 1000, samples };
    },
    close: flush,
  };
}

interface SampleStore {
  addLatencies(step: number, ms: number[]): Promise<void>;
  latencies(step: number): Promise<number[]>;
  /** True for the one caller (cluster-wide) that takes this step's sample. */
  claim(step: number): Promise<boolean>;
  add(step: number, sample: StatsSample): Promise<void>;
  since(step: number): Promise<StatsSample[]>;
}

function memoryStore(windowSteps: number): SampleStore {
  const lat = new Map<number, number[]>();
  const samples: Array<{ step: number; sample: StatsSample }> = [];
  return {
    addLatencies(step, ms) {
      const list = lat.get(step) ?? [];
      list.push(...ms);
      lat.set(step, list);
      return Promise.resolve();
    },
    latencies(step) {
      const list = lat.get(step) ?? [];
      for (const k of lat.keys()) if (k <= step) lat.delete(k);
      return Promise.resolve(list);
    },
    claim: () => Promise.resolve(true),
    add(step, sample) {
      samples.push({ step, sample });
      while (samples.length > 0 && samples[0].step <= step - windowSteps) samples.shift();
      return Promise.resolve();
    },
    since: (step) => Promise.resolve(samples.filter((s) => s.step >= step).map((s) => s.sample)),
  };
}

function redisStore(redis: RedisCommands, prefix: string, stepMs: number, windowSteps: number): SampleStore {
  const latKey = (step: number) => `${prefix}stats:lat:${step}`;
  const historyKey = `${prefix}stats:history`;
  // Long enough for a late sampler, short enough that nothing piles up.
  const keepMs = String(stepMs * 6);
  return {
    async addLatencies(step, ms) {
      // Sent together: one write on the connection, two replies.
      await Promise.all([
        redis.sendCommand(["RPUSH", latKey(step), ...ms.map((m) => String(Math.round(m)))]),
        redis.sendCommand(["PEXPIRE", latKey(step), keepMs]),
      ]);
    },
    async latencies(step) {
      const list = await redis.sendCommand<string[]>(["LRANGE", latKey(step), "0", "-1"]);
      return list.map(Number).filter(Number.isFinite);
    },
    async claim(step) {
      const won = await redis.sendCommand<string | null>([
        "SET",
        `${prefix}stats:step:${step}`,
        "1",
        "NX",
        "PX",
        keepMs,
      ]);
      return won === "OK";
    },
    async add(step, sample) {
      await redis.sendCommand(["ZADD", historyKey, String(step), JSON.stringify(sample)]);
      await redis.sendCommand(["ZREMRANGEBYSCORE", historyKey, "-inf", `(${step - windowSteps + 1}`]);
    },
    async since(step) {
      const rows = await redis.sendCommand<string[]>(["ZRANGEBYSCORE", historyKey, String(step), "+inf"]);
      return rows.map((r) => JSON.parse(r) as StatsSample);
    },
  };
}
