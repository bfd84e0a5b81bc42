/**
 * PROTOCOL §10 pet history: `GET /vet/v1/pets/{pet_id}/history` (who may read it, paging,
 * order, fields) and `history_count` on the offer, over real sockets and PostgreSQL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ownerActor,
  seedApp,
  seedUser,
  seedVet,
  vetActor,
  type OwnerActor,
  type VetActor,
} from "../../support/actors.js";
import { request, startTestGateway, type TestGateway } from "../../support/gateway.js";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("pet history", () => {
  let t: TestGateway;
  const actors: Array<VetActor | OwnerActor> = [];
  let appId: number;
  let owner: Awaited<ReturnType<typeof seedUser>>;
  let vetA: Awaited<ReturnType<typeof seedVet>>;
  let vetB: Awaited<ReturnType<typeof seedVet>>;
  /** The pet's ended consultations, oldest first. */
  const past: string[] = [];

  beforeAll(async () => {
    t = await startTestGateway();
    appId = (await seedApp(t.gateway)).id;
    owner = await seedUser(t.gateway, appId);
    vetA = await seedVet(t.gateway);
    vetB = await seedVet(t.gateway);
    const o = await ownerActor(t.url, owner.token);
    // Three past consultations: two with A (chat with feedback, video without), one with B.
    const plan = [
      { vet: vetA, type: "chat" as const, feedback: ["Rest two days", "Mild cough", "follow_up"] as const },
      { vet: vetB, type: "chat" as const, feedback: ["See the clinic", "Limping", "clinic_visit"] as const },
      { vet: vetA, type: "video" as const, feedback: null },
    ];
    for (const p of plan) {
      const v = await vetActor(t.url, p.vet.token);
      const { consultation_id: id } = await o.request({
        conversation_request: p.type,
        pet_id: owner.petId,
        doctor_email: p.vet.email,
      });
      await v.next("consult:offer", (x) => x.consultation_id === id);
      await v.accept(id);
      await v.end(id);
      if (p.feedback) await v.sendFeedback(id, p.feedback[0], p.feedback[1], p.feedback[2]);
      v.close();
      past.push(id);
    }
    o.close();
  }, 60_000);
  afterEach(() => {
    for (const a of actors.splice(0)) a.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  const history = (token: string, petId: number | string, query = "") =>
    request(t.url, "GET", `/vet/v1/pets/${String(petId)}/history${query}`, { headers: bearer(token) });

  it("a vet who held it earlier reads the past consultations, newest first, with every field", async () => {
    const res = await history(vetB.token, owner.petId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ success: true, status_code: 200 });
    const { list, pagination } = res.body.data;
    expect(pagination).toEqual({ total: 3, page: 1, perPage: 20, last_page: 1 });
    expect(list.map((c: any) => c.consultation_id)).toEqual([...past].reverse());
    const [video, clinic, cough] = list;
    expect(Object.keys(cough).sort()).toEqual(
      [
        "consultation_id",
        "date",
        "ended_at",
        "channel",
        "type",
        "vet_id",
        "vet_name",
        "duration_s",
        "outcome",
        "recommendation",
        "reason",
      ].sort(),
    );
    expect(cough).toMatchObject({
      channel: "chat",
      type: "chat",
      vet_id: vetA.id,
      vet_name: `${vetA.firstName} ${vetA.lastName}`,
      outcome: "follow_up",
      recommendation: "Rest two days",
      reason: "Mild cough",
    });
    expect(clinic).toMatchObject({
      vet_id: vetB.id,
      outcome: "clinic_visit",
      recommendation: "See the clinic",
      reason: "Limping",
    });
    // No feedback: outcome, recommendation and reason are null.
    expect(video).toMatchObject({
      channel: "video",
      vet_id: vetA.id,
      outcome: null,
      recommendation: null,
      reason: null,
    });
    for (const c of list) {
      expect(Number.isInteger(c.duration_s) && c.duration_s >= 0).toBe(true);
      expect(Date.parse(c.ended_at) - Date.parse(c.date)).toBeGreaterThanOrEqual(c.duration_s * 1000 - 500);
    }
    expect(Date.parse(video.date)).toBeGreaterThanOrEqual(Date.parse(clinic.date));
  });

  it("pages: ?page and ?perPage, the total and last page; past the end an empty page", async () => {
    const p1 = await history(vetA.token, owner.petId, "?perPage=2");
    expect(p1.body.data.list.map((c: any) => c.consultation_id)).toEqual([past[2], past[1]]);
    expect(p1.body.data.pagination).toEqual({ total: 3, page: 1, perPage: 2, last_page: 2 });
    const p2 = await history(vetA.token, owner.petId, "?perPage=2&page=2");
    expect(p2.body.data.list.map((c: any) => c.consultation_id)).toEqual([past[0]]);
    expect(p2.body.data.pagination).toEqual({ total: 3, page: 2, perPage: 2, last_page: 2 });
    const p9 = await history(vetA.token, owner.petId, "?page=9");
    expect(p9.body.data).toEqual({ list: [], pagination: { total: 3, page: 9, perPage: 20, last_page: 1 } });
    const bad = await history(vetA.token, owner.petId, "?page=0&perPage=1000");
    expect(bad.status).toBe(422);
    expect(bad.body.message).toEqual(["The page must be at least 1.", "The per page must not be greater than 100."]);
    const typo = await history(vetA.token, owner.petId, "?pge=2");
    expect(typo.body.message).toEqual(["The pge field is not allowed."]);
  });

  it("offered and holding vets read it (the current consultation is not listed); the offer carries history_count", async () => {
    const vetC = await seedVet(t.gateway);
    const stranger = await seedVet(t.gateway);
    expect((await history(vetC.token, owner.petId)).status).toBe(403);
    const v = await vetActor(t.url, vetC.token);
    const o = await ownerActor(t.url, owner.token);
    actors.push(v, o);
    const { consultation_id: id } = await o.request({
      conversation_request: "chat",
      pet_id: owner.petId,
      doctor_email: vetC.email,
    });
    const offer = await v.next("consult:offer", (x) => x.consultation_id === id);
    expect(offer.history_count).toBe(3);
    // Offered: allowed.
    const offered = await history(vetC.token, owner.petId);
    expect(offered.status).toBe(200);
    expect(offered.body.data.pagination.total).toBe(3);
    const accepted = await v.accept(id);
    expect(accepted.history_count).toBe(3);
    // Holding: allowed; the open consultation is not part of the history.
    const holding = await history(vetC.token, owner.petId);
    expect(holding.status).toBe(200);
    expect(holding.body.data.list.map((c: any) => c.consultation_id)).not.toContain(id);
    // Another vet: the standard 403 envelope.
    const denied = await history(stranger.token, owner.petId);
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      success: false,
      status_code: 403,
      message: ["This action is unauthorized."],
      data: [],
    });
    await v.end(id);
    // Once ended it joins the history (for the next consultation, counted 4).
    expect((await history(vetC.token, owner.petId)).body.data.list[0].consultation_id).toBe(id);
    await v.sendFeedback(id, "ok", "ok", "resolved");
    const again = await o.request({ conversation_request: "chat", pet_id: owner.petId, doctor_email: vetC.email });
    expect((await v.next("consult:offer", (x) => x.consultation_id === again.consultation_id)).history_count).toBe(4);
    await o.cancel(again.consultation_id);
  });

  it("an unknown pet answers 403 like any pet without a consultation of this vet; a malformed id 404; no token 401", async () => {
    const unknown = await history(vetA.token, 2_000_000_000);
    expect(unknown.status).toBe(403);
    expect(unknown.body.message).toEqual(["This action is unauthorized."]);
    const other = await seedUser(t.gateway, appId);
    expect((await history(vetA.token, other.petId)).status).toBe(403);
    expect((await history(vetA.token, "abc")).status).toBe(404);
    const none = await request(t.url, "GET", `/vet/v1/pets/${String(owner.petId)}/history`);
    expect(none.status).toBe(401);
    expect(none.body.message).toEqual(["Unauthenticated."]);
    // An owner's token is not a vet's.
    expect((await history(owner.token, owner.petId)).status).toBe(401);
  });

  it("a pet without earlier consultations: history_count 0 and an empty history for the offered vet", async () => {
    const fresh = await seedUser(t.gateway, appId);
    const vetD = await seedVet(t.gateway);
    const v = await vetActor(t.url, vetD.token);
    const o = await ownerActor(t.url, fresh.token);
    actors.push(v, o);
    const { consultation_id: id } = await o.request({
      conversation_request: "video",
      pet_id: fresh.petId,
      doctor_email: vetD.email,
    });
    expect((await v.next("consult:offer", (x) => x.consultation_id === id)).history_count).toBe(0);
    const res = await history(vetD.token, fresh.petId);
    expect(res.body.data).toEqual({ list: [], pagination: { total: 0, page: 1, perPage: 20, last_page: 1 } });
    // The offer does not open another pet's history.
    expect((await history(vetD.token, owner.petId)).status).toBe(403);
    await o.cancel(id);
  });
});

describe("pet history with the Redis routing store", () => {
  let t: TestGateway;
  const actors: Array<VetActor | OwnerActor> = [];
  afterAll(async () => {
    for (const a of actors.splice(0)) a.close();
    await t?.close();
  });

  it("history_count travels with the consultation's profile in Redis; the offered vet (known to Redis only) reads the history", async () => {
    t = await startTestGateway({ redis: true });
    const appId = (await seedApp(t.gateway)).id;
    const owner = await seedUser(t.gateway, appId);
    const first = await seedVet(t.gateway);
    const second = await seedVet(t.gateway);
    const v1 = await vetActor(t.url, first.token);
    const o = await ownerActor(t.url, owner.token);
    actors.push(v1, o);
    const { consultation_id: done } = await o.request({
      conversation_request: "chat",
      pet_id: owner.petId,
      doctor_email: first.email,
    });
    await v1.next("consult:offer", (x) => x.consultation_id === done);
    await v1.accept(done);
    await v1.end(done);
    await v1.sendFeedback(done, "Rest", "Cough", "no_show");
    const v2 = await vetActor(t.url, second.token);
    actors.push(v2);
    const { consultation_id: id } = await o.request({
      conversation_request: "chat",
      pet_id: owner.petId,
      doctor_email: second.email,
    });
    expect((await v2.next("consult:offer", (x) => x.consultation_id === id)).history_count).toBe(1);
    const res = await request(t.url, "GET", `/vet/v1/pets/${String(owner.petId)}/history`, {
      headers: bearer(second.token),
    });
    expect(res.status).toBe(200);
    expect(res.body.data.list).toEqual([
      expect.objectContaining({ consultation_id: done, outcome: "no_show", vet_id: first.id }),
    ]);
    expect((await v2.accept(id)).history_count).toBe(1);
  });
});
