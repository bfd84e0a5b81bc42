/**
 * PROTOCOL §6: `PATCH /admin/v1/vets/{id} {active}` disables and restores a vet, end to end;
 * PROTOCOL §4 skills: `species`, `languages`, `max_chats` on `POST` and `PATCH /admin/v1/vets`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../../support/actors.js";
import type { VetSkills } from "../../../src/domain/types.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe("disabling a vet", () => {
  let t: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    t = await startTestGateway({ env: { USER_GRACE_MS: "0" } });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.close();
  });

  const patch = (id: number | string, body: unknown, headers: Record<string, string> = admin) =>
    request(t.url, "PATCH", `/admin/v1/vets/${id}`, { body, headers });
  const login = (email: string) =>
    request(t.url, "POST", "/vet/v1/login", { body: { email, password: "password-123" } });

  it("closes the vet's sockets, moves their offer on, refuses login and tokens; restoring lets the vet log in again, not the old tokens", async () => {
    const app = await seedApp(t.gateway);
    const vetA = await seedVet(t.gateway);
    const a = await vetClient(t.url, vetA.token);
    clients.push(a);
    const owner = await seedUser(t.gateway, app.id);
    const u = await userClient(t.url, owner.token);
    clients.push(u);
    const req = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId });
    await a.next("consult:offer", (p) => p.consultation_id === req.data.consultation_id);

    const disconnected = new Promise<string>((resolve) => a.socket.once("disconnect", (reason) => resolve(reason)));
    const res = await patch(vetA.id, { active: false });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      message: ["Vet disabled."],
      data: { id: vetA.id, email: vetA.email, active: false },
    });
    expect(res.body.data).not.toHaveProperty("password_hash");
    expect(await disconnected).toBe("io server disconnect");

    // The held offer went back to the queue: the next vet online gets it.
    const vetB = await seedVet(t.gateway);
    const b = await vetClient(t.url, vetB.token);
    clients.push(b);
    await b.next("consult:offer", (p) => p.consultation_id === req.data.consultation_id);

    // The old token no longer opens /vet, and login is refused with a clear 403.
    await expect(new TestClient(t.url, "/vet", vetA.token).ready()).rejects.toThrow("unauthorized");
    const refused = await login(vetA.email);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      success: false,
      status_code: 403,
      message: ["This vet account is disabled."],
      data: [],
    });
    // A wrong password stays the plain 401, disabled or not.
    const wrong = await request(t.url, "POST", "/vet/v1/login", { body: { email: vetA.email, password: "nope-nope" } });
    expect(wrong.status).toBe(401);

    const restored = await patch(vetA.id, { active: true });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ message: ["Vet enabled."], data: { active: true } });
    const fresh = await login(vetA.email);
    expect(fresh.status).toBe(200);
    // Enabling bumps the session version too (PROTOCOL §7): the token from before stays dead.
    await expect(new TestClient(t.url, "/vet", vetA.token).ready()).rejects.toThrow("unauthorized");
    const again = await new TestClient(t.url, "/vet", fresh.body.data.token as string).ready();
    clients.push(again);
    expect(again.socket.connected).toBe(true);
  });

  it("unknown vet → 404; bad body → 422; no token → 401", async () => {
    for (const id of [999_999, "abc", 0, "99999999999"]) {
      const res = await patch(id, { active: false });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ success: false, status_code: 404, message: ["Vet not found"], data: [] });
    }
    const vet = await seedVet(t.gateway);
    const empty = await patch(vet.id, {});
    expect(empty.status).toBe(422);
    expect(empty.body).toEqual({
      success: false,
      status_code: 422,
      message: ["At least one of active, password, species, languages, max_chats, licenses is required."],
      data: [],
    });
    for (const body of [{ active: "no" }, { active: 0 }]) {
      const res = await patch(vet.id, body);
      expect(res.status).toBe(422);
      expect(res.body.message).toEqual(["The active field must be true or false."]);
    }
    const extra = await patch(vet.id, { active: false, email: "x@y.z" });
    expect(extra.status).toBe(422);
    expect(extra.body.message).toEqual(["The email field is not allowed."]);
    expect((await patch(vet.id, { active: false }, {})).status).toBe(401);
    // Nothing changed for the vet of the refused calls.
    expect((await login(vet.email)).status).toBe(200);
  });
});

describe("vet skills", () => {
  let t: TestGateway;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.close();
  });

  let n = 0;
  const create = (extra: Record<string, unknown>) =>
    request(t.url, "POST", "/admin/v1/vets", {
      body: {
        email: `skill-${String(++n)}@example.com`,
        password: "password-123",
        first_name: "Ana",
        last_name: "Kim",
        ...extra,
      },
      headers: admin,
    });
  const patch = (id: number | string, body: unknown) =>
    request(t.url, "PATCH", `/admin/v1/vets/${id}`, { body, headers: admin });
  const login = (email: string) =>
    request(t.url, "POST", "/vet/v1/login", { body: { email, password: "password-123" } });

  it("POST: defaults are every species, en and VET_MAX_CONSULTS; given skills are normalised, stored and shown at login", async () => {
    const plain = await create({});
    expect(plain.status, JSON.stringify(plain.body)).toBe(201);
    expect(plain.body.data).toMatchObject({ species: [], languages: ["en"], max_chats: null, licenses: [] });

    const res = await create({
      species: [" Dog", "cat", "dog", "guinea pig"],
      languages: ["es", "en", "es"],
      max_chats: 3,
      licenses: ["us-ca", " GB", "US-CA"],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data).toMatchObject({
      species: ["dog", "cat", "guinea pig"],
      languages: ["es", "en"],
      max_chats: 3,
      licenses: ["US-CA", "GB"],
    });
    const stored = await t.gateway.ctx.repos.vets.findById(res.body.data.id);
    expect(stored).toMatchObject({
      species: ["dog", "cat", "guinea pig"],
      languages: ["es", "en"],
      maxChats: 3,
      licenses: ["US-CA", "GB"],
    });

    const l = await login(res.body.data.email);
    expect(l.status).toBe(200);
    expect(l.body.data.vet).toMatchObject({
      id: res.body.data.id,
      species: ["dog", "cat", "guinea pig"],
      languages: ["es", "en"],
      max_chats: 3,
      licenses: ["US-CA", "GB"],
    });
  });

  it("POST and PATCH: bad skills → 422 naming the field, nothing stored", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ species: "dog" }, "The species must be an array."],
      [{ species: ["dog", 7] }, "The species.1 must be a string."],
      [{ species: ["d0g"] }, "The species.0 must be a lower-case species name (letters, spaces, hyphens; at most 40)."],
      [
        { species: ["x".repeat(41)] },
        "The species.0 must be a lower-case species name (letters, spaces, hyphens; at most 40).",
      ],
      [
        { species: Array.from({ length: 21 }, (_, i) => `s${"abcdefghijklmnopqrstu"[i] ?? ""}`) },
        "The species must not have more than 20 items.",
      ],
      [{ languages: ["en", "english"] }, "The selected languages.1 is invalid."],
      [{ languages: ["xx"] }, "The selected languages.0 is invalid."],
      [{ languages: ["EN"] }, "The selected languages.0 is invalid."],
      [{ languages: [] }, "The languages must have at least 1 item."],
      [{ max_chats: 0 }, "The max chats must be at least 1."],
      [{ max_chats: 11 }, "The max chats must not be greater than 10."],
      [{ max_chats: 1.5 }, "The max chats must be an integer."],
      [{ max_chats: "2" }, "The max chats must be an integer."],
      [{ licenses: "US-CA" }, "The licenses must be an array."],
      [
        { licenses: ["California"] },
        "The licenses.0 must be an ISO 3166 country or subdivision code, such as GB or US-CA.",
      ],
      [
        { licenses: ["US-CA", "US-ZZ"] },
        "The licenses.1 must hold ISO 3166 country or subdivision codes, such as GB or US-CA.",
      ],
      [{ licenses: ["XX"] }, "The licenses.0 must hold ISO 3166 country or subdivision codes, such as GB or US-CA."],
    ];
    const vet = await seedVet(t.gateway);
    for (const [body, message] of cases) {
      const created = await create(body);
      expect(created.status, JSON.stringify(body)).toBe(422);
      expect(created.body, JSON.stringify(body)).toEqual({
        success: false,
        status_code: 422,
        message: [message],
        data: [],
      });
      const patched = await patch(vet.id, body);
      expect(patched.status, JSON.stringify(body)).toBe(422);
      expect(patched.body.message, JSON.stringify(body)).toEqual([message]);
    }
    expect(await t.gateway.ctx.repos.vets.findById(vet.id)).toMatchObject({
      species: [],
      languages: ["en"],
      maxChats: null,
      active: true,
    });
    const malformed = await request(t.url, "PATCH", `/admin/v1/vets/${vet.id}`, {
      raw: '{"species": [',
      headers: { ...admin, "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ success: false, status_code: 400, data: [] });
  });

  it("PATCH: records the skills first, then tells routing; only given fields change; the vet stays enabled", async () => {
    const vet = await seedVet(t.gateway);
    const console_ = await vetClient(t.url, vet.token);
    clients.push(console_);
    const engine = t.gateway.engine;
    const calls: Array<{ vetId: number; skills: VetSkills; recorded: unknown }> = [];
    const original = engine.vetSkillsChanged.bind(engine);
    engine.vetSkillsChanged = async (vetId, skills) => {
      // Record first (PROTOCOL §6): the row already holds what routing is told.
      const recorded = await t.gateway.ctx.repos.vets.findById(vetId);
      calls.push({
        vetId,
        skills,
        recorded: recorded && {
          species: recorded.species,
          languages: recorded.languages,
          maxChats: recorded.maxChats,
          version: recorded.skillsVersion,
        },
      });
      return original(vetId, skills);
    };
    try {
      const res = await patch(vet.id, { species: ["cat", "Cat"], languages: ["fr", "en"] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        success: true,
        message: ["Vet updated."],
        data: { id: vet.id, active: true, species: ["cat"], languages: ["fr", "en"], max_chats: null },
      });
      expect(calls).toEqual([
        // Each change carries the version it wrote (one more per change).
        {
          vetId: vet.id,
          skills: { species: ["cat"], languages: ["fr", "en"], maxChats: null, licenses: [], version: 1 },
          recorded: { species: ["cat"], languages: ["fr", "en"], maxChats: null, version: 1 },
        },
      ]);

      const more = await patch(vet.id, { max_chats: 4 });
      expect(more.body.data).toMatchObject({ species: ["cat"], languages: ["fr", "en"], max_chats: 4 });
      expect(calls[1]?.skills).toEqual({
        species: ["cat"],
        languages: ["fr", "en"],
        maxChats: 4,
        licenses: [],
        version: 2,
      });
      const reset = await patch(vet.id, { species: [], max_chats: null });
      expect(reset.body.data).toMatchObject({ species: [], languages: ["fr", "en"], max_chats: null });
      expect(calls[2]?.skills).toEqual({
        species: [],
        languages: ["fr", "en"],
        maxChats: null,
        licenses: [],
        version: 3,
      });
      // Licences are skills: recorded, then routing hears of them (PROTOCOL §4).
      const licensed = await patch(vet.id, { licenses: ["gb"] });
      expect(licensed.body.data).toMatchObject({ licenses: ["GB"] });
      expect(calls[3]?.skills).toEqual({
        species: [],
        languages: ["fr", "en"],
        maxChats: null,
        licenses: ["GB"],
        version: 4,
      });

      // Enabling alone does not touch skills or routing's copy of them.
      const enabled = await patch(vet.id, { active: true });
      expect(enabled.body).toMatchObject({
        message: ["Vet enabled."],
        data: { active: true, languages: ["fr", "en"] },
      });
      expect(calls).toHaveLength(4);
      // The console stayed connected through every change.
      expect(console_.socket.connected).toBe(true);
    } finally {
      engine.vetSkillsChanged = original;
    }
  });
});
