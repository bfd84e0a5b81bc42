/**
 * Redis routing store latency and throughput: `npx tsx bench/store.ts [iterations]`.
 * Uses `REDIS_URL` (default redis://127.0.0.1:6379) under a throw-away prefix.
 * (a) snapshot() with 50 vets and 100 queued requests, one call at a time (latency) and 32
 * in flight (throughput); (b) claimOffer on a fresh request each time (the release that
 * makes the vet eligible again is not timed); (c) claimOffer refused (vet not eligible);
 * (d) with every request of (b) still waiting (100 + iterations + 1), the whole snapshot
 * (the timer's pass) against headSnapshot (a pass for an event: its cost does not grow).
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import type { NewLiveConsultation } from "../src/domain/routing-store.js";
import { RedisRoutingStore } from "../src/routing-store/redis/store.js";
import { routingRules } from "../src/domain/routing-rules.js";

const rulesFor = (vetMaxConsults: number) => routingRules({ vetMaxConsults });

const iterations = Number(process.argv[2] ?? 2000);
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `bench:store:${randomBytes(4).toString("hex")}:`;
const T0 = Date.now();

const client = createClient({ url });
await client.connect();
const store = new RedisRoutingStore({ client, prefix });
await store.loadScripts();

let userId = 0;
function request(): NewLiveConsultation {
  userId++;
  return {
    id: `bench-${userId}`,
    appId: 1,
    userId,
    petId: userId,
    type: "chat",
    status: "queued",
    createdAt: T0,
    queueDeadline: T0 + 600_000,
    requestedVetId: null,
    offer: null,
    excludedVetIds: [],
    vetId: null,
    acceptedAt: null,
    channelSid: null,
    roomSid: null,
    profile: {
      user: { id: userId, first_name: "Benchmark", last_name: "User", email: `bench${userId}@example.test` },
      pet: { id: userId, name: "Rex", species: "dog", breed: "Labrador", age: 4, weight_kg: 31.5, image: null },
    },
  };
}

function stats(label: string, samples: number[], wallMs: number): void {
  const sorted = [...samples].sort((x, y) => x - y);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const ops = Math.round((samples.length * 1000) / wallMs);
  console.log(
    `${label.padEnd(44)} ${String(ops).padStart(7)} ops/s   p50 ${pct(50).toFixed(3)} ms   p99 ${pct(99).toFixed(3)} ms`,
  );
}

async function sequential(
  label: string,
  n: number,
  op: (i: number) => Promise<unknown>,
  untimed?: (i: number) => Promise<unknown>,
) {
  const samples: number[] = [];
  let wall = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    const dt = performance.now() - t;
    samples.push(dt);
    wall += dt;
    if (untimed) await untimed(i);
  }
  stats(label, samples, wall);
}

async function concurrent(label: string, n: number, inFlight: number, op: () => Promise<unknown>) {
  const samples: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) {
        const t = performance.now();
        await op();
        samples.push(performance.now() - t);
      }
    }),
  );
  stats(label, samples, performance.now() - start);
}

try {
  for (let v = 1; v <= 50; v++) {
    await store.addVetConnection(v, `c${v}`, "bench-node", T0);
    await store.setVetStatus(v, "available", T0 + v);
  }
  for (let i = 0; i < 100; i++) await store.enqueue(request());
  const snap = await store.snapshot();
  const bytes = JSON.stringify(snap).length;
  console.log(`snapshot: ${snap.queue.length} queued, ${snap.vets.length} vets, ~${Math.round(bytes / 1024)} KiB`);

  await sequential("(a) snapshot, 1 in flight", iterations, () => store.snapshot());
  await concurrent("(a) snapshot, 32 in flight", iterations, 32, () => store.snapshot());

  // (b) vet 1 claims a fresh request each time, then releases it (untimed).
  const fresh: string[] = [];
  for (let i = 0; i < iterations; i++) fresh.push((await store.enqueue(request())).consultation.id);
  await sequential(
    "(b) claimOffer ok, 1 in flight",
    iterations,
    (i) => store.claimOffer(fresh[i], 1, T0, T0 + 30_000, rulesFor(1)),
    (i) => store.releaseOffer(fresh[i], 1),
  );

  // (c) refusals are what most racing claims see: vet 2 holds an offer already.
  const held = (await store.enqueue(request())).consultation.id;
  await store.claimOffer(held, 2, T0, T0 + 30_000, rulesFor(1));
  await sequential("(c) claimOffer refused, 1 in flight", iterations, (i) =>
    store.claimOffer(fresh[i], 2, T0, T0 + 30_000, rulesFor(1)),
  );
  await concurrent("(c) claimOffer refused, 32 in flight", iterations, 32, () =>
    store.claimOffer(fresh[0], 2, T0, T0 + 30_000, rulesFor(1)),
  );

  const long = await store.snapshot();
  const head = await store.headSnapshot(1);
  console.log(`long queue: snapshot holds ${long.queue.length} requests, headSnapshot ${head.queue.length}`);
  const reads = Math.max(20, Math.round(iterations / 10));
  await sequential(`(d) snapshot, ${long.queue.length} queued, 1 in flight`, reads, () => store.snapshot());
  await sequential(`(d) headSnapshot, ${long.queue.length} queued, 1 in flight`, reads, () => store.headSnapshot(1));
} finally {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
  await client.quit();
}
