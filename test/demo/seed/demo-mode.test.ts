/**
 * Demo mode (PROTOCOL §8): `DEMO=1` seeds the demo app, vets and owners idempotently and
 * serves `/demo/v1`; without it nothing is seeded and `/demo/v1` is a 404 envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOwnerClient, type OwnerEvents } from "../../../src/client/index.js";
import { loadConfig } from "../../../src/config.js";
import { seedDemo } from "../../../src/demo/seed.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";
import { Recorder, vetLogin } from "../../client/recorder.js";

describe("demo mode", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: { DEMO: "1" } });
  });
  afterAll(() => t.close());

  it("reads DEMO from the environment (off by default)", () => {
    expect(loadConfig({}).demo).toBe(false);
    expect(loadConfig({ DEMO: "1" }).demo).toBe(true);
    expect(loadConfig({ DEMO: "true" }).demo).toBe(true);
    expect(() => loadConfig({ DEMO: "yes" })).toThrow(/DEMO/);
  });

  it("seeds the app, three vets who can log in, and owners with pets of several species", async () => {
    const app = await t.gateway.ctx.repos.apps.findByName("demo");
    expect(app).not.toBeNull();
    for (const n of [1, 2, 3]) {
      const login = await request(t.url, "POST", "/vet/v1/login", {
        body: { email: `vet${n}@demo.test`, password: `demo-vet-${n}` },
      });
      expect(login.status).toBe(200);
      expect(login.body.data.vet.email).toBe(`vet${n}@demo.test`);
    }
    const owners = await request(t.url, "GET", "/demo/v1/owners");
    expect(owners.status).toBe(200);
    const list = owners.body.data as Array<{
      email: string;
      first_name: string;
      pets: Array<{ id: number; species: string; name: string }>;
    }>;
    expect(list.length).toBeGreaterThanOrEqual(3);
    for (const o of list) expect(o.pets.length).toBeGreaterThan(0);
    const species = new Set(list.flatMap((o) => o.pets.map((p) => p.species)));
    expect(species.size).toBeGreaterThanOrEqual(3);
    const vets = await request(t.url, "GET", "/demo/v1/vets");
    expect(vets.body.data.map((v: { email: string }) => v.email)).toEqual([
      "vet1@demo.test",
      "vet2@demo.test",
      "vet3@demo.test",
    ]);

    // Skills differ so the demo shows routing (PROTOCOL §4): every pet has a vet who treats
    // it, some vet does not treat some pet, and the vets speak more than one language.
    const stored = await Promise.all([1, 2, 3].map((n) => t.gateway.ctx.repos.vets.findByEmail(`vet${n}@demo.test`)));
    const skills = stored.map((v) => ({ species: v!.species, languages: v!.languages, maxChats: v!.maxChats }));
    expect(
      vets.body.data.map((v: { species: string[]; languages: string[] }) => ({
        species: v.species,
        languages: v.languages,
      })),
    ).toEqual(skills.map((s) => ({ species: s.species, languages: s.languages })));
    const treats = (s: { species: string[] }, sp: string) => s.species.length === 0 || s.species.includes(sp);
    for (const sp of species) {
      expect(
        skills.some((s) => treats(s, sp)),
        sp,
      ).toBe(true);
      expect(
        skills.some((s) => !treats(s, sp)),
        sp,
      ).toBe(true);
    }
    expect(new Set(skills.flatMap((s) => s.languages)).size).toBeGreaterThan(2);
    expect(skills.some((s) => s.maxChats !== null)).toBe(true);
  });

  it("gives a demo vet seeded before skills existed its skills on the next start", async () => {
    const vet1 = (await t.gateway.ctx.repos.vets.findByEmail("vet1@demo.test"))!;
    await t.gateway.ctx.repos.vets.update(vet1.id, { species: [], languages: ["en"], maxChats: null });
    const again = await seedDemo(t.gateway.ctx.repos, new Date());
    expect(again.vets[0]).toMatchObject({ id: vet1.id, species: ["dog", "cat"], languages: ["en", "es"], maxChats: 2 });
  });

  it("seeds idempotently: a second run (a restart) adds nothing and keeps the ids", async () => {
    const before = (await request(t.url, "GET", "/demo/v1/owners")).body.data;
    const again = await seedDemo(t.gateway.ctx.repos, new Date());
    const third = await seedDemo(t.gateway.ctx.repos, new Date());
    expect(third).toEqual(again);
    expect((await request(t.url, "GET", "/demo/v1/owners")).body.data).toEqual(before);
    expect(again.vets.map((v) => v.email)).toEqual(["vet1@demo.test", "vet2@demo.test", "vet3@demo.test"]);
  });

  it("POST /demo/v1/owner-token gives a demo owner's /user token that works with the SDK end to end", async () => {
    const [owner] = (await request(t.url, "GET", "/demo/v1/owners")).body.data as Array<{
      email: string;
      pets: Array<{ id: number }>;
    }>;
    const res = await request(t.url, "POST", "/demo/v1/owner-token", { body: { email: owner.email } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      data: { token: expect.any(String), expires_at: expect.any(String) },
    });

    const getToken = async () =>
      (await request(t.url, "POST", "/demo/v1/owner-token", { body: { email: owner.email } })).body.data;
    const client = createOwnerClient({ url: t.url, getToken });
    const rec = new Recorder<OwnerEvents>(client, ["consult:queued"]);
    try {
      await rec.status("connected");
      const queued = await client.request({
        conversation_request: "chat",
        pet_id: owner.pets[0].id,
        doctor_email: "vet2@demo.test",
      });
      expect(queued).toMatchObject({ status: "queued", position: 1 });
      await client.cancel(queued.consultation_id);
    } finally {
      client.close();
    }
    // The vets' demo passwords open /vet too (the console's path).
    expect((await vetLogin(t.url, "vet1@demo.test", "demo-vet-1")).token).toMatch(/^ey/);
  });

  it("answers 422 for a bad email and 404 for an owner who is not in the demo app", async () => {
    const bad = await request(t.url, "POST", "/demo/v1/owner-token", { body: { email: "nope" } });
    expect(bad.status).toBe(422);
    expect(bad.body.success).toBe(false);
    const missing = await request(t.url, "POST", "/demo/v1/owner-token", { body: { email: "nobody@demo.test" } });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ success: false, status_code: 404, message: ["User not found."], data: [] });
  });
});

describe("without DEMO", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ db: "pglite" });
  });
  afterAll(() => t.close());

  it("seeds nothing and has no /demo/v1 routes (404 envelope)", async () => {
    expect(await t.gateway.ctx.repos.apps.findByName("demo")).toBeNull();
    expect(await t.gateway.ctx.repos.vets.findByEmail("vet1@demo.test")).toBeNull();
    for (const [method, path] of [
      ["GET", "/demo/v1/owners"],
      ["GET", "/demo/v1/vets"],
      ["POST", "/demo/v1/owner-token"],
    ] as const) {
      const res = await request(t.url, method, path, method === "POST" ? { body: { email: "alice@demo.test" } } : {});
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ success: false, status_code: 404, message: ["Not Found"], data: [] });
    }
  });
});
