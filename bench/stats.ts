/**
 * The statistics summary over a large ledger (PROTOCOL §9): `npx tsx bench/stats.ts`.
 *
 * Seeds a throw-away PostgreSQL database with `--consultations` (1,000,000) consultations
 * spread evenly over the last `--days` (90) days: 5 apps, 50 vets, 8 in 10 matched and ended
 * (waits 0–5 min, handling 5–30 min), 1 in 10 cancelled before a match, 1 in 10 expired, half
 * of the ended ones with feedback and an outcome. Then times `GET /admin/v1/stats/summary`'s
 * computation (`StatsSummary`, in this process, against that database):
 *   cold: the first summary of the 90 days, which computes every closed day into stats_daily;
 *   warm: the same again (the goal: under 200 ms), then filtered by app and by vet, and the
 *   last 7 days; each `--repeat` (5) times, printing min, median and max.
 * Flags: --consultations 1000000 --days 90 --repeat 5
 */
import pg from "pg";
import { openDatabase } from "../src/db/database.js";
import { systemClock } from "../src/lib/clock.js";
import { StatsSummary } from "../src/ops/stats-summary.js";
import { backgroundLoad, createTempDatabase, numFlag, parseFlags, runBench } from "./lib/services.js";

const flags = parseFlags(process.argv.slice(2));
const COUNT = numFlag(flags, "consultations", 1_000_000);
const DAYS = numFlag(flags, "days", 90);
const REPEAT = Math.max(1, numFlag(flags, "repeat", 5));
const APPS = 5;
const VETS = 50;

const day = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await run();
  return { ms: performance.now() - t, value };
}

async function main(): Promise<void> {
  console.log(`stats bench: node ${process.version}; machine busy before start: ${await backgroundLoad()}%`);
  const db = await createTempDatabase("stats");
  const database = await openDatabase({ url: db.url });
  await database.close();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const t0 = performance.now();
  try {
    await c.query(
      `insert into apps (name, secret_hash) select 'statsapp' || g, 'x' from generate_series(1, ${APPS}) g`,
    );
    await c.query(
      `insert into vets (email, password_hash, first_name, last_name) select 'v' || g || '@stats.test', 'x', 'V', 'S' from generate_series(1, ${VETS}) g`,
    );
    await c.query(
      `insert into users (app_id, email, first_name, role) select 1 + (g % ${APPS}), 'o' || g || '@stats.test', 'O', 'users' from generate_series(1, 5000) g`,
    );
    // Users g belong to app 1 + (g % APPS): a consultation of user u is of that app.
    await c.query(`
      insert into consultations (id, app_id, user_id, type, source, status, vet_id, created_at, accepted_at, ended_at, ended_by, updated_at)
      select gen_random_uuid(), 1 + (u % ${APPS}), u, 'chat', 'socket',
        case when g % 10 < 8 then 'ended' when g % 10 = 8 then 'cancelled' else 'expired' end,
        case when g % 10 < 8 then 1 + (g % ${VETS}) end,
        ts,
        case when g % 10 < 8 then ts + ((g * 7) % 300) * interval '1 second' end,
        case when g % 10 < 8 then ts + ((g * 7) % 300 + 300 + (g * 13) % 1500) * interval '1 second'
             else ts + interval '10 minutes' end,
        case when g % 10 < 8 then 'vet' when g % 10 = 8 then 'user' else 'system' end,
        ts
      from (select g, 1 + (g % 5000) as u, now() - interval '${DAYS} days' + g * (interval '${DAYS} days' / ${COUNT}) as ts
            from generate_series(1, ${COUNT}) g) s`);
    await c.query(`
      insert into feedback (consultation_id, vet_id, recommendation, reason, outcome)
      select id, vet_id, 'r', 'x', (array['resolved','follow_up','clinic_visit','emergency_referral','no_show','other'])[1 + (abs(hashtext(id::text)) % 6)]
      from consultations where status = 'ended' and abs(hashtext(id::text)) % 2 = 0`);
    await c.query("analyze");
  } finally {
    await c.end();
  }
  console.log(
    `seeded ${COUNT.toLocaleString("en-US")} consultations over ${DAYS} days, ${APPS} apps, ${VETS} vets in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const db2 = await openDatabase({ url: db.url });
  try {
    const summary = new StatsSummary(db2.db, systemClock);
    const from = day((DAYS - 1) * 86_400_000);
    const to = day(0);
    const cold = await timed(() => summary.summary({ from, to }));
    console.log(
      `cold (computes the ${DAYS - 1} closed days into stats_daily): ${cold.ms.toFixed(0)} ms; requests ${cold.value.requests}, matched ${cold.value.matched}`,
    );
    const cases: Array<[string, () => Promise<unknown>]> = [
      [`${DAYS} days, all`, () => summary.summary({ from, to })],
      [`${DAYS} days, one app`, () => summary.summary({ from, to, appId: 2 })],
      [`${DAYS} days, one vet`, () => summary.summary({ from, to, vetId: 7 })],
      ["last 7 days, all", () => summary.summary({ from: day(6 * 86_400_000), to })],
    ];
    for (const [label, run] of cases) {
      const ms: number[] = [];
      for (let i = 0; i < REPEAT; i++) ms.push((await timed(run)).ms);
      ms.sort((a, b) => a - b);
      const median = ms[Math.floor(ms.length / 2)];
      console.log(
        `warm, ${label}: min ${ms[0].toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${ms[ms.length - 1].toFixed(0)} ms` +
          (label.endsWith(", all") && label.startsWith(String(DAYS))
            ? ` — goal < 200 ms: ${median < 200 ? "MET" : "MISSED"}`
            : ""),
      );
    }
  } finally {
    await db2.close();
  }
}

await runBench(main);
