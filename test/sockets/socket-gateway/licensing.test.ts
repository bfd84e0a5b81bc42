/**
 * PROTOCOL §4 "Licensing and care" end to end, with `LICENSING=on`: vets' licences set over
 * the admin API, owners' regions over register-user and update-user, requests over the SDK
 * on real sockets, real PostgreSQL, each routing store; the advice fallback seen by the
 * owner, the vet, the admin lookup and the partner's webhook receiver.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OwnerActor, ownerActor, vetActor, type VetActor } from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { createAppClient, email, expectError, type AppClient } from "../../support/v2.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

/** Short enough to watch a request become advice within a test. */
const LICENSE_WAIT_MS = 1200;
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe.each([
  { store: "memory", redis: false },
  { store: "redis", redis: true },
])("licensing end to end ($store store)", ({ redis }) => {
  let t: TestGateway;
  let app: AppClient;
  let receiver: WebhookReceiver;
  const clients: Array<VetActor | OwnerActor> = [];
  const track = <T extends VetActor | OwnerActor>(c: T): T => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestGateway({
      redis,
      env: {
        USER_GRACE_MS: "0",
        LICENSING: "on",
        LICENSE_WAIT_MS: String(LICENSE_WAIT_MS),
        WEBHOOK_ALLOW_PRIVATE: "true",
      },
    });
    app = await createAppClient(t);
    receiver = await startWebhookReceiver();
    const set = await request(t.url, "PATCH", `/admin/v1/apps/${String(app.app.id)}`, {
      headers: admin,
      body: { webhook_url: receiver.url },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
  });
  afterEach(async () => {
    const all = clients.splice(0);
    for (const c of all) if (c instanceof OwnerActor) c.close();
    for (const c of all) if (!(c instanceof OwnerActor)) c.close();
    await expect.poll(async () => (await t.gateway.engine.stats()).open_consultations, { timeout: 5000 }).toBe(0);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** A vet created with licences over `POST /admin/v1/vets`, logged in, online and available. */
  async function vetOnline(licenses: string[]) {
    const body = { email: email("vet"), password: "password-123", first_name: "Vet", last_name: "Licensed", licenses };
    const created = await request(t.url, "POST", "/admin/v1/vets", { body, headers: admin });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const login = await request(t.url, "POST", "/vet/v1/login", {
      body: { email: body.email, password: body.password },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.data.vet.licenses).toEqual(licenses.map((l) => l.toUpperCase()));
    return {
      id: created.body.data.id as number,
      client: track(await vetActor(t.url, login.body.data.token as string)),
    };
  }

  /** An owner registered over the v2 API (with `region` when given), one dog, connected on `/user`. */
  async function owner(region?: string) {
    const res = await app.call("POST", "/register-user", {
      first_name: "Owner",
      email: email("owner"),
      role: "users",
      pet: { name: "Rex", species: "dog" },
      ...(region ? { region } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { user, socket_token } = res.body.data;
    expect(user.region).toBe(region?.toUpperCase() ?? null);
    return {
      email: user.email as string,
      petId: user.pets.id as number,
      client: track(await ownerActor(t.url, socket_token.token as string)),
    };
  }

  it("treatment goes to the vet licensed for the owner's region, care and region travel with it; the owner can move", async () => {
    const elsewhere = await vetOnline(["US-NY"]);
    const licensed = await vetOnline(["us"]);
    const o = await owner("us-ca");
    const req = await o.client.request({ conversation_request: "chat", pet_id: o.petId });
    const offer = await licensed.client.next("consult:offer");
    expect(offer).toMatchObject({ consultation_id: req.consultation_id, care: "treatment", region: "US-CA" });
    await elsewhere.client.none("consult:offer");
    expect(await licensed.client.accept(req.consultation_id)).toMatchObject({ care: "treatment", region: "US-CA" });
    expect(await o.client.next("consult:matched")).toMatchObject({ consultation_id: req.consultation_id });
    const lookup = await request(t.url, "GET", `/admin/v1/consultations/${req.consultation_id}`, { headers: admin });
    expect(lookup.body.data).toMatchObject({ region: "US-CA", care: "treatment", advice_fallback: false });
    await licensed.client.end(req.consultation_id);
    await licensed.client.sendFeedback(req.consultation_id, "ok", "ok");

    // The owner moved to New York (update-user): the other vet is the licensed one now.
    const moved = await app.call("POST", "/update-user", { email: o.email, region: "US-NY" });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.data).toMatchObject({ email: o.email, region: "US-NY", pets: null });
    const again = await o.client.request({ conversation_request: "chat", pet_id: o.petId });
    expect(await elsewhere.client.next("consult:offer")).toMatchObject({
      consultation_id: again.consultation_id,
      region: "US-NY",
    });
    await elsewhere.client.accept(again.consultation_id);
    await elsewhere.client.end(again.consultation_id);
  });

  it("without a region a treatment request gets 422; a region that ISO 3166 lacks too; advice needs none", async () => {
    const o = await owner();
    const ask = (extra: Record<string, unknown>) =>
      o.client.request({ conversation_request: "chat", pet_id: o.petId, ...extra });
    await expect(ask({})).rejects.toMatchObject({ statusCode: 422, messages: ["The region field is required."] });
    await expect(ask({ region: "US-ZZ" })).rejects.toMatchObject({
      statusCode: 422,
      messages: ["The selected region is invalid."],
    });
    await expect(ask({ region: "California" })).rejects.toMatchObject({ statusCode: 422 });
    await expect(ask({ care: "cure" })).rejects.toMatchObject({ statusCode: 422 });
    expect((await t.gateway.engine.stats()).open_consultations).toBe(0);
    const advice = await ask({ care: "advice" });
    expect(advice.status).toBe("queued");
    expect(await t.gateway.engine.stats()).toMatchObject({ queue_length: 1, waiting_advice: 1 });
    await o.client.cancel(advice.consultation_id);
    // REST answers the same.
    expectError(
      await app.call("POST", "/talk-to-vet", { email: o.email, conversation_request: "chat", pet_id: o.petId }),
      422,
      "The region field is required.",
    );
    expectError(
      await app.call("POST", "/update-user", { email: o.email, region: "XX" }),
      422,
      "The selected region is invalid.",
    );
  });

  it("the advice fallback: no licensed vet within LICENSE_WAIT_MS → the owner is told, any vet is offered it as advice, the partner gets consultation.care_changed", async () => {
    const unlicensed = await vetOnline([]);
    const o = await owner("US-TX");
    const started = Date.now();
    const req = await o.client.request({ conversation_request: "chat", pet_id: o.petId, advice_fallback: true });
    await unlicensed.client.none("consult:offer", () => true, LICENSE_WAIT_MS - 400);
    const told = await o.client.next("consult:queued", (q) => q.reason === "no_licensed_vet", 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LICENSE_WAIT_MS);
    expect(told).toMatchObject({ consultation_id: req.consultation_id, care: "advice", reason: "no_licensed_vet" });
    const offer = await unlicensed.client.next("consult:offer", () => true, 5000);
    expect(offer).toMatchObject({ consultation_id: req.consultation_id, care: "advice", region: "US-TX" });
    await unlicensed.client.accept(req.consultation_id);
    const lookup = await request(t.url, "GET", `/admin/v1/consultations/${req.consultation_id}`, { headers: admin });
    expect(lookup.body.data).toMatchObject({ care: "advice", advice_fallback: true });
    expect(lookup.body.data.events).toContainEqual(
      expect.objectContaining({
        from_status: "queued",
        to_status: "queued",
        detail: { care: "advice", reason: "no_licensed_vet" },
      }),
    );
    const hooks = await receiver.waitFor(1, "consultation.care_changed");
    expect(
      hooks.find((h) => h.json.data.consultation.id === req.consultation_id)?.json.data.consultation,
    ).toMatchObject({ care: "advice", region: "US-TX" });
    await unlicensed.client.end(req.consultation_id);
  });
});
