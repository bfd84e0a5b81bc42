/**
 * Two gateway "nodes" (two RedisRoutingStore instances, two connections) on one prefix,
 * racing on the same requests, vets, deadlines and dead nodes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { planOffers } from "../../../../src/domain/planner.js";
import { canTake, isEligible, licensedFor } from "../../../../src/domain/routing-rules.js";
import type { LiveConsultation, VetSkills } from "../../../../src/domain/types.js";
import { RedisRoutingStore } from "../../../../src/routing-store/redis/store.js";
import { REDIS_URL, cleanRedisPrefix, uniqueRedisPrefix } from "../../../support/services.js";
import { newRequest, rulesFor } from "../../contract.js";

const T0 = Date.UTC(2026, 0, 1);
const OFFER_MS = 30_000;
const filePrefix = uniqueRedisPrefix("rrace");

type Client = RedisClientType;
const clients: Client[] = [];
let a: RedisRoutingStore;
let b: RedisRoutingStore;
let run = 0;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const c = createClient({ url: REDIS_URL });
    await c.connect();
    clients.push(c);
  }
});

beforeEach(() => {
  const prefix = `${filePrefix}${++run}:`;
  a = new RedisRoutingStore({ client: clients[0], prefix });
  b = new RedisRoutingStore({ client: clients[1], prefix });
});

afterAll(async () => {
  for (const c of clients) await c.quit();
  await cleanRedisPrefix(filePrefix);
});

function shuffle<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("RedisRoutingStore with two nodes racing", () => {
  it("claimOffer/acceptOffer: no request goes to two vets, no vet holds two offers", async () => {
    const VETS = [11, 12, 13, 14, 15, 16];
    for (const [i, v] of VETS.entries()) {
      const s = i % 2 === 0 ? a : b;
      await s.addVetConnection(v, `conn-${v}`, i % 2 === 0 ? "A" : "B", T0);
      await s.setVetStatus(v, "available", T0 + i);
    }
    const queued: LiveConsultation[] = [];
    for (let i = 0; i < 40; i++) queued.push((await (i % 2 ? a : b).enqueue(newRequest())).consultation);

    const claims: Array<{ c: string; v: number }> = [];
    const accepts: Array<{ c: string; v: number }> = [];
    let refused = 0;

    const node = async (store: RedisRoutingStore) => {
      for (let round = 0; round < 200; round++) {
        const snap = await store.snapshot();
        const vets = snap.vets.filter((v) => isEligible(v, 1));
        const waiting = snap.queue.filter((q) => q.status === "queued");
        // Accept offers either node made (as if the vet's console answered on this node).
        const offered = snap.queue.filter((q) => q.status === "offered");
        if (vets.length === 0 && offered.length === 0) {
          if (snap.vets.every((v) => v.activeConsultationIds.length > 0)) return;
        }
        const pairs = shuffle(waiting.slice(0, 8).flatMap((c) => vets.map((v) => [c.id, v.vetId] as const)));
        await Promise.all([
          ...pairs.map(async ([c, v]) => {
            const r = await store.claimOffer(c, v, T0 + 100, T0 + 100 + OFFER_MS, rulesFor(1));
            if (r.ok) claims.push({ c, v });
            else refused++;
          }),
          ...offered.map(async (q) => {
            const r = await store.acceptOffer(q.id, q.offer!.vetId, T0 + 200);
            if (r.ok && !r.alreadyActive) accepts.push({ c: q.id, v: q.offer!.vetId });
          }),
        ]);
      }
      throw new Error("did not settle");
    };
    await Promise.all([node(a), node(b)]);

    // The nodes really did collide.
    expect(refused).toBeGreaterThan(0);
    // No release happened, so every claim is final: one per vet, never two per request.
    expect(claims).toHaveLength(VETS.length);
    expect(new Set(claims.map((x) => x.v)).size).toBe(VETS.length);
    expect(new Set(claims.map((x) => x.c)).size).toBe(VETS.length);
    expect(accepts).toHaveLength(VETS.length);
    expect(new Set(accepts.map((x) => x.c)).size).toBe(VETS.length);
    expect([...accepts].sort((x, y) => x.v - y.v).map((x) => x.v)).toEqual(VETS);

    const snap = await a.snapshot();
    expect(snap.queue).toHaveLength(40 - VETS.length);
    expect(snap.queue.every((q) => q.status === "queued" && q.offer === null)).toBe(true);
    for (const v of snap.vets) {
      expect(v.offerConsultationId).toBeNull();
      expect(v.activeConsultationIds).toHaveLength(1);
      const c = await b.getConsultation(v.activeConsultationIds[0]);
      expect(c).toMatchObject({ status: "active", vetId: v.vetId });
    }
    const assigned = snap.vets.map((v) => v.activeConsultationIds[0]);
    expect(new Set(assigned).size).toBe(VETS.length);
  });

  it("mixed species, channels, priorities, regions and care, planned and claimed by both nodes with licensing on: no double assignment, no vet over capacity, never a species the vet does not treat, never treatment where the vet is not licensed", async () => {
    const rules = rulesFor(1, true);
    const VETS: Array<{ id: number; skills: VetSkills }> = [
      { id: 31, skills: { species: ["dog"], languages: ["en"], maxChats: 2, licenses: ["US"], version: 1 } },
      {
        id: 32,
        skills: { species: ["cat"], languages: ["en", "es"], maxChats: 1, licenses: ["US-CA", "GB"], version: 1 },
      },
      { id: 33, skills: { species: [], languages: ["es"], maxChats: 3, licenses: ["GB"], version: 1 } },
      { id: 34, skills: { species: ["dog", "cat"], languages: ["en"], maxChats: 2, licenses: [], version: 1 } },
      { id: 35, skills: { species: ["rabbit"], languages: ["en"], maxChats: 1, licenses: ["US-NY"], version: 1 } },
      { id: 36, skills: { species: ["dog"], languages: ["es"], maxChats: 1, licenses: ["US-CA"], version: 1 } },
    ];
    for (const [i, v] of VETS.entries()) {
      const s = i % 2 === 0 ? a : b;
      await s.addVetConnection(v.id, `conn-${v.id}`, i % 2 === 0 ? "A" : "B", T0, v.skills);
      await s.setVetStatus(v.id, "available", T0 + i);
    }
    const species = ["dog", "cat", "iguana", null, "rabbit"];
    const regions = ["US-CA", "US-NY", "GB", "DE"];
    const priorities = ["normal", "protected", "emergency"] as const;
    const requests: LiveConsultation[] = [];
    for (let i = 0; i < 40; i++) {
      const r = newRequest({
        species: species[i % species.length],
        type: i % 4 === 0 ? "video" : "chat",
        priority: priorities[i % 3],
        language: i % 5 === 0 ? "es" : null,
        region: regions[i % regions.length],
        care: i % 7 === 0 ? "advice" : "treatment",
        createdAt: T0,
      });
      requests.push((await (i % 2 ? a : b).enqueue(r, 0, rules.priorityAgingMs)).consultation);
    }
    const byId = new Map(requests.map((r) => [r.id, r]));

    const claims: Array<{ c: string; v: number }> = [];
    const node = async (store: RedisRoutingStore) => {
      let idle = 0;
      for (let round = 0; round < 200 && idle < 3; round++) {
        const now = T0 + 100 + round;
        const snap = await store.snapshot();
        const planned = planOffers(snap, rules, now);
        const offered = snap.queue.filter((q) => q.status === "offered");
        if (planned.length === 0 && offered.length === 0) idle++;
        else idle = 0;
        await Promise.all([
          ...planned.map(async (p) => {
            const r = await store.claimOffer(p.consultationId, p.vetId, now, now + OFFER_MS, rules);
            if (r.ok) claims.push({ c: p.consultationId, v: p.vetId });
          }),
          ...offered.map((q) => store.acceptOffer(q.id, q.offer!.vetId, now)),
        ]);
      }
    };
    await Promise.all([node(a), node(b)]);

    // No release happened: a request claimed twice would have gone to two vets.
    expect(claims.length).toBeGreaterThan(VETS.length);
    expect(new Set(claims.map((x) => x.c)).size).toBe(claims.length);
    const snap = await a.snapshot();
    for (const v of snap.vets) {
      const skills = VETS.find((x) => x.id === v.vetId)!.skills;
      expect(v.offerConsultationId).toBeNull();
      const held = v.activeConsultationIds.map((id) => byId.get(id)!);
      const videos = held.filter((c) => c.type === "video").length;
      if (videos > 0) expect(held).toHaveLength(1);
      expect(held.length).toBeLessThanOrEqual(skills.maxChats!);
      for (const c of held) {
        if (c.species && skills.species.length > 0) expect(skills.species).toContain(c.species);
        if (c.care !== "advice") expect(licensedFor(v, c.region)).toBe(true);
        expect(await b.getConsultation(c.id)).toMatchObject({ status: "active", vetId: v.vetId });
      }
    }
    // Every vet is full or has nothing left in the queue that it could take.
    const left = snap.queue.filter((q) => q.status === "queued");
    for (const v of snap.vets) {
      const now = T0 + 1_000;
      for (const q of left)
        expect(canTake(v, q, now, rules, { ignoreLanguage: q.requestedVetId === v.vetId })).toBe(false);
    }
    // iguanas only ever went to the vet who treats every species; treatment in Germany to nobody.
    for (const x of claims) if (byId.get(x.c)!.species === "iguana") expect(x.v).toBe(33);
    for (const x of claims) if (byId.get(x.c)!.region === "DE") expect(byId.get(x.c)!.care).toBe("advice");
  });

  it("claimDue: 200 deadlines, each handed out exactly once", async () => {
    for (let i = 0; i < 200; i++) await (i % 2 ? a : b).addDeadline("offer", `d${i}`, T0 + i);
    const got: string[] = [];
    const drain = async (store: RedisRoutingStore) => {
      for (;;) {
        const batch = await Promise.all([store.claimDue(T0 + 1000, 7), store.claimDue(T0 + 1000, 3)]);
        const flat = batch.flat();
        if (flat.length === 0) return;
        got.push(...flat.map((d) => d.ref));
      }
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    expect(got).toHaveLength(200);
    expect(new Set(got).size).toBe(200);
  });

  it("reapDeadNodes: one dead node is cleaned once, whoever reaps", async () => {
    await a.heartbeat("dead", T0, 1000);
    await b.heartbeat("live", T0, 1000);
    await a.addVetConnection(21, "c21", "dead", T0);
    await a.setVetStatus(21, "available", T0);
    await b.addVetConnection(22, "c22", "live", T0);
    await a.addUserConnection(1, 500, "u500", "dead");
    const c = (await b.enqueue(newRequest())).consultation;
    expect((await b.claimOffer(c.id, 21, T0, T0 + OFFER_MS, rulesFor(1))).ok).toBe(true);

    await b.heartbeat("live", T0 + 1500, 1000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reapDeadNodes(T0 + 2000)));
    const cleanups = results.flat();
    expect(cleanups).toHaveLength(1);
    expect(cleanups[0]).toMatchObject({
      nodeId: "dead",
      offlineVetIds: [21],
      disconnectedUsers: [{ appId: 1, userId: 500 }],
    });
    expect(cleanups[0].released).toHaveLength(1);
    expect(cleanups[0].released[0]).toMatchObject({
      vetId: 21,
      consultation: { id: c.id, status: "queued", excludedVetIds: [21] },
    });
    expect(await a.getVet(22)).toMatchObject({ connections: 1 });
  });
});

describe("referrals (PROTOCOL §10) with two nodes racing", () => {
  it("a referral's offer and a waiting request never both go to one vet; a consultation never gets a second holder but warm", async () => {
    const FIRST = [21, 22, 23, 24];
    const FREE = [31, 32, 33, 34];
    for (const v of [...FIRST, ...FREE]) {
      await a.addVetConnection(v, `conn-${v}`, v % 2 ? "A" : "B", T0);
      await a.setVetStatus(v, "available", T0);
    }
    // Each first vet holds one consultation and refers it (cold: one holder after the accept).
    const referred: string[] = [];
    for (const v of FIRST) {
      const c = (await a.enqueue(newRequest())).consultation;
      const claimed = await a.claimOffer(c.id, v, T0 + 1, T0 + 1 + OFFER_MS, rulesFor(1));
      expect(claimed.ok).toBe(true);
      expect((await a.acceptOffer(c.id, v, T0 + 2)).ok).toBe(true);
      referred.push(c.id);
    }
    for (const [i, v] of FIRST.entries()) {
      const c = { id: referred[i] };
      const r = await a.requestReferral(c.id, {
        fromVetId: v,
        fromVetName: "",
        note: "",
        mode: "cold",
        toVetId: null,
        requestedAt: T0 + 3,
        deadline: T0 + 600_000,
      });
      expect(r.ok).toBe(true);
    }
    const waiting: string[] = [];
    for (let i = 0; i < 4; i++) waiting.push((await b.enqueue(newRequest())).consultation.id);
    const entries = referred.map((id) => `${id}~referral`);
    // Both nodes try every pair at once (rules with room for 3 chats: only the one-offer rule stops a second offer).
    const tries = shuffle([...entries, ...waiting].flatMap((c) => FREE.map((v) => [c, v] as const)));
    const results = await Promise.all(
      tries.map(async ([c, v], i) => ({
        c,
        v,
        r: await (i % 2 ? a : b).claimOffer(c, v, T0 + 10, T0 + 10 + OFFER_MS, rulesFor(3)),
      })),
    );
    const won = results.filter((x) => x.r.ok);
    expect(won.some((x) => x.c.endsWith("~referral"))).toBe(true);
    expect(new Set(won.map((x) => x.v)).size).toBe(won.length);
    expect(new Set(won.map((x) => x.c)).size).toBe(won.length);
    // Accepts race ends of the same consultations: either the hand-over or the end wins, whole.
    await Promise.all(
      won.map(async ({ c, v }, i) => {
        const id = c.replace("~referral", "");
        const s = i % 2 ? a : b;
        await Promise.all([
          s.acceptOffer(c, v, T0 + 20),
          referred.includes(id) ? (i % 2 ? b : a).endReferral(id) : Promise.resolve(null),
        ]);
      }),
    );
    const vets = (await a.snapshot()).vets;
    for (const id of referred) {
      const c = await a.getConsultation(id);
      const holders = vets.filter((v) => v.activeConsultationIds.includes(id)).map((v) => v.vetId);
      expect(holders).toEqual([c!.vetId]);
      expect(c!.leavingVetId ?? null).toBeNull();
    }
    for (const v of vets)
      expect(v.offerConsultationId === null || !v.activeConsultationIds.includes(v.offerConsultationId)).toBe(true);
  });
});
