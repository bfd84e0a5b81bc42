/**
 * PROTOCOL §10 outcomes end to end: `consult:feedback` requires one of `OUTCOMES` (the
 * default list, or a custom one from the environment); it is recorded and returned by REST
 * `feedback`, the admin lookup and the statistics; `/vet/v1/config` lists the outcomes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../../support/actors.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** An ended consultation of a fresh owner and vet, on the raw wire; returns its id, channel and the clients. */
async function endedConsultation(t: TestGateway, appId: number, clients: TestClient[]) {
  const owner = await seedUser(t.gateway, appId);
  const vet = await seedVet(t.gateway);
  const v = await vetClient(t.url, vet.token);
  const u = await userClient(t.url, owner.token);
  clients.push(v, u);
  const req = await u.ask("consult:request", {
    conversation_request: "chat",
    pet_id: owner.petId,
    doctor_email: vet.email,
  });
  const id = req.data.consultation_id as string;
  await v.next("consult:offer", (o) => o.consultation_id === id);
  const acc = await v.ask("consult:accept", { consultation_id: id });
  expect(acc.success).toBe(true);
  expect((await v.ask("consult:end", { consultation_id: id })).success).toBe(true);
  return { id, channel: acc.data.channel as string, v, u, vet };
}

describe("outcomes with the default OUTCOMES", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    t = await startTestGateway();
    app = await seedApp(t.gateway);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("consult:feedback without an outcome, or with one not listed, is a 422 and stores nothing", async () => {
    const { id, v } = await endedConsultation(t, app.id, clients);
    const base = { consultation_id: id, recommendation: "Rest", reason: "Cough" };
    const missing = await v.ask("consult:feedback", base);
    expect(missing).toEqual({
      success: false,
      status_code: 422,
      message: ["The outcome field is required."],
      data: [],
    });
    const blank = await v.ask("consult:feedback", { ...base, outcome: "  " });
    expect(blank.message).toEqual(["The outcome field is required."]);
    const unknown = await v.ask("consult:feedback", { ...base, outcome: "cured" });
    expect(unknown).toEqual({
      success: false,
      status_code: 422,
      message: ["The selected outcome is invalid."],
      data: [],
    });
    const notString = await v.ask("consult:feedback", { ...base, outcome: 3 });
    expect(notString.status_code).toBe(422);
    expect(await t.gateway.ctx.repos.ledger.findFeedback(id)).toBeNull();
  });

  it("a listed outcome is stored and relayed; REST feedback, the admin lookup and list, and the statistics return it", async () => {
    const { id, channel, v, u } = await endedConsultation(t, app.id, clients);
    const ok = await v.ask("consult:feedback", {
      consultation_id: id,
      recommendation: "See the clinic",
      reason: "Limping",
      outcome: "clinic_visit",
    });
    expect(ok.success).toBe(true);
    expect(await u.next("consult:feedback", (f) => f.consultation_id === id)).toMatchObject({
      recommendation: "See the clinic",
      outcome: "clinic_visit",
    });

    const rest = await request(t.url, "POST", `/api/v2/${app.name}/feedback`, {
      headers: { authorization: basicAuth(app.name, app.secret) },
      body: { type: "chat", channel_sid: channel },
    });
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(rest.body.data).toMatchObject({
      type: "chat",
      recommendation: "See the clinic",
      reason: "Limping",
      outcome: "clinic_visit",
    });

    const audit = await request(t.url, "GET", `/admin/v1/consultations/${id}`, { headers: admin });
    expect(audit.body.data.outcome).toBe("clinic_visit");
    expect(audit.body.data.feedback).toMatchObject({ recommendation: "See the clinic", outcome: "clinic_visit" });
    const list = await request(t.url, "GET", `/admin/v1/consultations?app_id=${String(app.id)}&status=ended`, {
      headers: admin,
    });
    expect(list.body.data.list.find((c: any) => c.id === id)).toMatchObject({ outcome: "clinic_visit" });

    // A second submission replaces the outcome too.
    await v.ask("consult:feedback", {
      consultation_id: id,
      recommendation: "Rest",
      reason: "Better",
      outcome: "resolved",
    });
    expect((await request(t.url, "GET", `/admin/v1/consultations/${id}`, { headers: admin })).body.data.outcome).toBe(
      "resolved",
    );

    // Statistics by outcome (today is read live).
    const summary = await request(t.url, "GET", `/admin/v1/stats/summary?app_id=${String(app.id)}`, { headers: admin });
    expect(summary.status).toBe(200);
    expect(summary.body.data.by_outcome.resolved).toBeGreaterThanOrEqual(1);
    expect(summary.body.data.by_outcome).not.toHaveProperty("clinic_visit");
    expect(summary.body.data.days.at(-1).by_outcome.resolved).toBeGreaterThanOrEqual(1);
  });

  it("REST feedback of a feedback stored without an outcome answers outcome null (it is optional there)", async () => {
    const { id, channel, vet } = await endedConsultation(t, app.id, clients);
    await t.gateway.ctx.repos.ledger.saveFeedback(id, vet.id, "Rest", "Cough", Date.now());
    const rest = await request(t.url, "POST", `/api/v2/${app.name}/feedback`, {
      headers: { authorization: basicAuth(app.name, app.secret) },
      body: { type: "chat", channel_sid: channel },
    });
    expect(rest.status).toBe(200);
    expect(rest.body.data).toMatchObject({ recommendation: "Rest", outcome: null });
  });

  it("GET /vet/v1/config lists the outcomes", async () => {
    const res = await request(t.url, "GET", "/vet/v1/config");
    expect(res.body.data.outcomes).toEqual([
      "resolved",
      "follow_up",
      "clinic_visit",
      "emergency_referral",
      "no_show",
      "other",
    ]);
  });
});

describe("outcomes with a custom OUTCOMES", () => {
  let t: TestGateway;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    t = await startTestGateway({ db: "pglite", env: { OUTCOMES: "fixed, referred_on" } });
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await t?.close();
  });

  it("only the configured outcomes are accepted, and /vet/v1/config lists them", async () => {
    expect((await request(t.url, "GET", "/vet/v1/config")).body.data.outcomes).toEqual(["fixed", "referred_on"]);
    const app = await seedApp(t.gateway);
    const { id, v } = await endedConsultation(t, app.id, clients);
    const base = { consultation_id: id, recommendation: "Rest", reason: "Cough" };
    expect((await v.ask("consult:feedback", { ...base, outcome: "resolved" })).message).toEqual([
      "The selected outcome is invalid.",
    ]);
    expect((await v.ask("consult:feedback", { ...base, outcome: "referred_on" })).success).toBe(true);
    expect(await t.gateway.ctx.repos.ledger.findFeedback(id)).toMatchObject({ outcome: "referred_on" });
  });
});
