/**
 * PROTOCOL §4: `consult:request` and talk-to-vet take optional `language` (ISO 639-1) and
 * `emergency` (boolean). The transports validate their types (422 naming the field) and hand
 * them to the engine; the emergency permission itself is the engine's rule.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsultationInput } from "../../../src/domain/intake.js";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../../support/actors.js";
import { basicAuth, request, startTestGateway, type TestGateway } from "../../support/gateway.js";

describe("request fields language and emergency", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: TestClient[] = [];
  /** What the transports handed to the engine, in order. */
  const seen: Array<{ via: "socket" | "rest"; input: ConsultationInput }> = [];

  beforeAll(async () => {
    t = await startTestGateway();
    app = await seedApp(t.gateway);
    const engine = t.gateway.engine;
    const request_ = engine.request.bind(engine);
    const talkToVet = engine.talkToVet.bind(engine);
    engine.request = (input) => {
      seen.push({ via: "socket", input });
      return request_(input);
    };
    engine.talkToVet = (input) => {
      seen.push({ via: "rest", input });
      return talkToVet(input);
    };
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.close();
  });

  /** A subscribed `protect_users` owner (may ask for an emergency) with a pet, and a socket token. */
  async function protectedOwner() {
    const label = `p${String(Date.now())}${String(Math.random()).slice(2, 8)}`;
    const { user, pet } = await t.gateway.ctx.repos.users.register(
      app.id,
      { email: `prot-${label}@example.com`, firstName: "Prot", role: "protect_users", emergencyFund: 100 },
      new Date(),
      { name: "Rex", species: "dog" },
    );
    const { token } = await t.gateway.ctx.socketTokens.issue({ kind: "user", appId: app.id, userId: user.id });
    return { userId: user.id, petId: pet!.id, email: user.email, token };
  }

  it("consult:request: a bad language or emergency → 422 naming the field; good ones reach the engine", async () => {
    const owner = await protectedOwner();
    const u = await userClient(t.url, owner.token);
    clients.push(u);
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ language: "xx" }, ["The selected language is invalid."]],
      [{ language: "english" }, ["The selected language is invalid."]],
      [{ language: 7 }, ["The selected language is invalid."]],
      [{ emergency: "yes" }, ["The emergency must be true or false."]],
      [{ language: "zz", emergency: 1 }, ["The selected language is invalid.", "The emergency must be true or false."]],
    ];
    const before = seen.length;
    for (const [extra, message] of cases) {
      const res = await u.ask("consult:request", { conversation_request: "chat", pet_id: owner.petId, ...extra });
      expect(res, JSON.stringify(extra)).toEqual({ success: false, status_code: 422, message, data: [] });
    }
    expect(seen.length).toBe(before);

    const ok = await u.ask("consult:request", {
      conversation_request: "chat",
      pet_id: owner.petId,
      language: "es",
      emergency: true,
    });
    expect(ok, JSON.stringify(ok)).toMatchObject({ success: true, status_code: 200, data: { status: "queued" } });
    expect(seen.at(-1)).toEqual({
      via: "socket",
      input: {
        appId: app.id,
        userId: owner.userId,
        petId: owner.petId,
        type: "chat",
        doctorEmail: undefined,
        language: "es",
        emergency: true,
      },
    });
    expect((await u.ask("consult:cancel", { consultation_id: ok.data.consultation_id })).status_code).toBe(200);

    // Both optional: absent means no preference and no emergency.
    const plain = await u.ask("consult:request", { conversation_request: "video", pet_id: owner.petId });
    expect(plain.success).toBe(true);
    expect(seen.at(-1)?.input).toMatchObject({ type: "video", language: undefined, emergency: undefined });
    await u.ask("consult:cancel", { consultation_id: plain.data.consultation_id });
  });

  it("talk-to-vet: JSON or form fields; bad ones → 422 naming the field; good ones reach the engine", async () => {
    const auth = { authorization: basicAuth(app.name, app.secret) };
    const owner = await protectedOwner();
    const talk = (body: Record<string, unknown>) =>
      request(t.url, "POST", `/api/v2/${app.name}/talk-to-vet`, {
        headers: auth,
        body: { email: owner.email, conversation_request: "chat", pet_id: owner.petId, ...body },
      });

    const before = seen.length;
    for (const [extra, message] of [
      [{ language: "xx" }, "The selected language is invalid."],
      [{ language: "EN" }, "The selected language is invalid."],
      [{ emergency: "maybe" }, "The emergency field must be true or false."],
      [{ emergency: 2 }, "The emergency field must be true or false."],
    ] as const) {
      const res = await talk(extra);
      expect(res.status, JSON.stringify(extra)).toBe(422);
      expect(res.body, JSON.stringify(extra)).toEqual({
        success: false,
        status_code: 422,
        message: [message],
        data: [],
      });
    }
    expect(seen.length).toBe(before);

    const vet = await seedVet(t.gateway);
    const console_ = await vetClient(t.url, vet.token);
    clients.push(console_);
    const res = await talk({ language: "fr", emergency: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(seen.at(-1)).toMatchObject({
      via: "rest",
      input: { userId: owner.userId, type: "chat", language: "fr", emergency: true },
    });
    await request(t.url, "POST", `/api/v2/${app.name}/end`, {
      headers: auth,
      body: { channel_sid: res.body.data.channel },
    });

    // Form-encoded, as partner servers often post: "0" is false, "" is not given.
    const plain = await seedUser(t.gateway, app.id);
    const raw = new URLSearchParams({
      email: plain.email,
      conversation_request: "chat",
      pet_id: String(plain.petId),
      language: "",
      emergency: "0",
    }).toString();
    const form = await request(t.url, "POST", `/api/v2/${app.name}/talk-to-vet`, {
      raw,
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(seen.at(-1)).toMatchObject({
      via: "rest",
      input: { userId: plain.userId, language: undefined, emergency: false },
    });
    // Valid, so it reached intake: the only vet is in wrap-up after the consultation above.
    expect(form.status, JSON.stringify(form.body)).toBe(503);
  });
});
