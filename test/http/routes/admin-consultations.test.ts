/** PROTOCOL §6 operator reads: `GET /admin/v1/consultations/{id}` and the list, on both databases. */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveConsultation } from "../../../src/domain/types.js";
import { seedApp, seedUser, seedVet } from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { queuedRequest } from "../../support/live-consultations.js";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe.each(["postgres", "pglite"] as const)("admin consultations on %s", (db) => {
  let t: TestGateway;
  let appA: number;
  let appB: number;
  let vetId: number;
  let otherVetId: number;
  const ids: string[] = [];

  const live = (appId: number, userId: number, petId: number, createdAt: number): LiveConsultation =>
    queuedRequest({ id: randomUUID(), appId, userId, createdAt }, { petId, type: "video" });

  beforeAll(async () => {
    t = await startTestGateway({ db });
    const gw = t.gateway;
    const ledger = gw.ctx.repos.ledger;
    appA = (await seedApp(gw)).id;
    appB = (await seedApp(gw)).id;
    vetId = (await seedVet(gw)).id;
    otherVetId = (await seedVet(gw)).id;
    const ownerA = await seedUser(gw, appA);
    const ownerB = await seedUser(gw, appB);

    // 0: the full story — declined by one vet, accepted by another, ended, feedback.
    const full = live(appA, ownerA.userId, ownerA.petId, T0);
    await ledger.create(full, "socket");
    await ledger.offerMade(full.id, otherVetId, T0 + 100, T0 + 30_100, false);
    await ledger.offerEnded(full.id, otherVetId, "declined", T0 + 200, true);
    await ledger.offerMade(full.id, vetId, T0 + 300, T0 + 30_300, false);
    await ledger.transition(full.id, "active", T0 + 400, {
      vetId,
      channelSid: `CH${"1".repeat(32)}`,
      resolvedOffer: { vetId, outcome: "accepted" },
    });
    await ledger.transition(full.id, "ended", T0 + 5000, { endedBy: "vet", endReason: "done" });
    await ledger.saveFeedback(full.id, vetId, "Rest and water", "Mild cough", T0 + 6000, "follow_up");
    // 1: still queued, app A, created later.
    const queued = {
      ...live(appA, ownerA.userId, ownerA.petId, T0 + 10_000),
      species: "dog",
      language: "es",
      priority: "emergency" as const,
    };
    await ledger.create(queued, "rest");
    // 2: app B, newest.
    const other = live(appB, ownerB.userId, ownerB.petId, T0 + 20_000);
    await ledger.create(other, "socket");
    ids.push(full.id, queued.id, other.id);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("GET /consultations/{id} returns the consultation with events, offers and feedback", async () => {
    const res = await request(t.url, "GET", `/admin/v1/consultations/${ids[0]}`, { headers: admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const d = res.body.data;
    expect(d).toMatchObject({
      id: ids[0],
      app_id: appA,
      type: "video",
      source: "socket",
      status: "ended",
      requested_vet_id: null,
      vet_id: vetId,
      channel_sid: `CH${"1".repeat(32)}`,
      room_sid: null,
      ended_by: "vet",
      end_reason: "done",
      language: null,
      emergency: false,
      species: null,
      priority: "normal",
      created_at: new Date(T0).toISOString(),
      accepted_at: new Date(T0 + 400).toISOString(),
      ended_at: new Date(T0 + 5000).toISOString(),
      outcome: "follow_up",
    });
    expect(Object.keys(d).sort()).toEqual(
      [
        "id",
        "app_id",
        "user_id",
        "pet_id",
        "type",
        "source",
        "status",
        "requested_vet_id",
        "vet_id",
        "channel_sid",
        "room_sid",
        "ended_by",
        "end_reason",
        "language",
        "emergency",
        "species",
        "priority",
        "created_at",
        "accepted_at",
        "ended_at",
        "events",
        "offers",
        "feedback",
        "region",
        "care",
        "advice_fallback",
        "vets",
        "outcome",
      ].sort(),
    );
    expect(d.events.map((e: any) => [e.from_status, e.to_status])).toEqual([
      [null, "queued"],
      ["queued", "offered"],
      ["offered", "queued"],
      ["queued", "offered"],
      ["offered", "active"],
      ["active", "ended"],
    ]);
    expect(d.events[0]).toEqual({
      from_status: null,
      to_status: "queued",
      at: new Date(T0).toISOString(),
      detail: { source: "socket" },
    });
    expect(d.offers).toEqual([
      {
        vet_id: otherVetId,
        offered_at: new Date(T0 + 100).toISOString(),
        expires_at: new Date(T0 + 30_100).toISOString(),
        outcome: "declined",
        resolved_at: new Date(T0 + 200).toISOString(),
      },
      {
        vet_id: vetId,
        offered_at: new Date(T0 + 300).toISOString(),
        expires_at: new Date(T0 + 30_300).toISOString(),
        outcome: "accepted",
        resolved_at: new Date(T0 + 400).toISOString(),
      },
    ]);
    expect(d.feedback).toEqual({
      vet_id: vetId,
      recommendation: "Rest and water",
      reason: "Mild cough",
      outcome: "follow_up",
      created_at: new Date(T0 + 6000).toISOString(),
      updated_at: new Date(T0 + 6000).toISOString(),
    });

    const queued = await request(t.url, "GET", `/admin/v1/consultations/${ids[1]}`, { headers: admin });
    expect(queued.body.data).toMatchObject({
      status: "queued",
      source: "rest",
      accepted_at: null,
      ended_at: null,
      offers: [],
      feedback: null,
    });
    // The routing attributes of the request (PROTOCOL §4).
    expect(queued.body.data).toMatchObject({ language: "es", emergency: true, species: "dog", priority: "emergency" });
  });

  it("unknown or malformed id → 404 envelope", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const res = await request(t.url, "GET", `/admin/v1/consultations/${id}`, { headers: admin });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ success: false, status_code: 404, message: ["Consultation not found"], data: [] });
    }
  });

  it("lists newest first with filters and pagination", async () => {
    const all = await request(t.url, "GET", "/admin/v1/consultations", { headers: admin });
    expect(all.status).toBe(200);
    expect(all.body.data.list.map((c: any) => c.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(all.body.data.pagination).toEqual({ total: 3, page: 1, perPage: 20, last_page: 1 });
    expect(all.body.data.list[0]).not.toHaveProperty("events");
    // The feedback's outcome (PROTOCOL §10) is a column of the list; null without feedback.
    expect(all.body.data.list.map((c: any) => c.outcome)).toEqual([null, null, "follow_up"]);

    const byApp = await request(t.url, "GET", `/admin/v1/consultations?app_id=${appA}`, { headers: admin });
    expect(byApp.body.data.list.map((c: any) => c.id)).toEqual([ids[1], ids[0]]);
    const byStatus = await request(t.url, "GET", `/admin/v1/consultations?status=queued&app_id=${appA}`, {
      headers: admin,
    });
    expect(byStatus.body.data.list.map((c: any) => c.id)).toEqual([ids[1]]);
    const byVet = await request(t.url, "GET", `/admin/v1/consultations?vet_id=${vetId}`, { headers: admin });
    expect(byVet.body.data.list.map((c: any) => c.id)).toEqual([ids[0]]);
    const page2 = await request(t.url, "GET", "/admin/v1/consultations?page=2&perPage=2&status=", { headers: admin });
    expect(page2.body.data).toEqual({
      list: [expect.objectContaining({ id: ids[0] })],
      pagination: { total: 3, page: 2, perPage: 2, last_page: 2 },
    });
  });

  it("bad filters → 422 with one message per field", async () => {
    const res = await request(t.url, "GET", "/admin/v1/consultations?status=open&app_id=x&perPage=500&page=0", {
      headers: admin,
    });
    expect(res.status).toBe(422);
    expect(res.body.message).toEqual([
      "The selected status is invalid.",
      "The app id must be an integer.",
      "The page must be at least 1.",
      "The per page must not be greater than 100.",
    ]);
    const typo = await request(t.url, "GET", "/admin/v1/consultations?state=queued", { headers: admin });
    expect(typo.status).toBe(422);
    expect(typo.body.message).toEqual(["The state field is not allowed."]);
  });

  it("requires the admin token", async () => {
    expect((await request(t.url, "GET", "/admin/v1/consultations")).status).toBe(401);
    expect(
      (await request(t.url, "GET", `/admin/v1/consultations/${ids[0]}`, { headers: { authorization: "Bearer nope" } }))
        .status,
    ).toBe(401);
  });
});
