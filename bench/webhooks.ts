/**
 * Partner webhooks under load (PROTOCOL §9): `npx tsx bench/webhooks.ts`. The match bench's
 * `--webhooks` mode at 200 consultations a second for 30 s (override any flag of
 * `bench/match.ts`): the main run without webhooks, then again with every consultation's
 * events delivered to a receiver answering in 20 ms. Prints delivery latency p50/p99, the
 * outbox's peak backlog, how soon it is empty after the last request, and the match p99 with
 * webhooks on against off in the same run.
 */
const defaults: Record<string, string> = { rate: "200", duration: "30", warmup: "10" };
const given = new Set(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => a.slice(2).split("=")[0]),
);
for (const [flag, value] of Object.entries(defaults)) if (!given.has(flag)) process.argv.push(`--${flag}`, value);
if (!given.has("webhooks")) process.argv.push("--webhooks");
if (!given.has("search")) process.argv.push("--no-search");
await import("./match.js");
