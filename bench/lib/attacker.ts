/**
 * The abuse bench's attacker, in its own process so that its CPU is measured apart from the
 * bench's normal clients (and its event loop does not delay their timings): one owner
 * socket emitting `consult:request` as fast as it can (at most `floodInflight` unanswered),
 * and `restConcurrency` loops sending `pet/list` with a wrong secret from another address.
 *
 * Started with `fork` by bench/abuse.ts: it says `{ ready: true }` once loaded (so its start-up
 * is not part of a measured phase); the parent sends `{ start: AttackPlan }`, gets
 * `{ started: true }` once the flooding socket is connected, later sends `"stop"`, and gets
 * `{ result: AttackResult }` back.
 */
import { ask, openSocket } from "./sockets.js";
import { basicAuth, sleep } from "./services.js";

export interface AttackPlan {
  floodUrl: string;
  token: string;
  petId: number;
  restUrl: string;
  appName: string;
  floodInflight: number;
  restConcurrency: number;
}

export interface AttackResult {
  flood: { sent: number; limited: number; disconnected: boolean; disconnectedAfterS: number | null };
  rest: { sent: number; byStatus: Record<string, number> };
}

async function attack(plan: AttackPlan, stopped: () => boolean): Promise<AttackResult> {
  const flooder = await openSocket(plan.floodUrl, "/user", plan.token);
  process.send?.({ started: true });
  const started = performance.now();
  const flood: AttackResult["flood"] = { sent: 0, limited: 0, disconnected: false, disconnectedAfterS: null };
  flooder.on("disconnect", () => {
    flood.disconnected = true;
    flood.disconnectedAfterS = Math.round((performance.now() - started) / 100) / 10;
  });
  const floodLoop = (async () => {
    let inflight = 0;
    while (!stopped() && flooder.connected) {
      while (inflight < plan.floodInflight && flooder.connected) {
        inflight++;
        flood.sent++;
        ask(flooder, "consult:request", { conversation_request: "chat", pet_id: plan.petId })
          .then((r) => {
            if (r.status_code === 429) flood.limited++;
          })
          .catch(() => undefined)
          .finally(() => inflight--);
      }
      await sleep(1);
    }
  })();
  const byStatus = new Map<number, number>();
  let restSent = 0;
  const restLoops = Array.from({ length: plan.restConcurrency }, async () => {
    while (!stopped()) {
      try {
        const res = await fetch(`${plan.restUrl}/api/v2/${plan.appName}/pet/list?email=x@y.z`, {
          headers: {
            authorization: basicAuth(plan.appName, "wrong-secret-000000000"),
            "x-forwarded-for": "203.0.113.9",
          },
        });
        await res.arrayBuffer();
        restSent++;
        byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      } catch {
        await sleep(5);
      }
    }
  });
  await Promise.all([floodLoop, ...restLoops]);
  flooder.disconnect();
  // The flooder may be disconnected (and no REST loop run) long before the phase ends: the
  // result is for the parent's "stop", not before.
  while (!stopped()) await sleep(50);
  return { flood, rest: { sent: restSent, byStatus: Object.fromEntries(byStatus) } };
}

let stop = false;
process.on("message", (m: unknown) => {
  if (m === "stop") stop = true;
  else if (m && typeof m === "object" && "start" in m) {
    attack((m as { start: AttackPlan }).start, () => stop).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
