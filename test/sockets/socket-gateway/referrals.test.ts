/**
 * PROTOCOL §10 referrals end to end over real sockets and PostgreSQL, on the memory and the
 * Redis routing store: warm and cold hand-overs, a named vet declining or missing the offer,
 * `TRANSFER_TIMEOUT_MS`, cancel, the first vet dropping during a pending referral
 * (`VET_GRACE_MS`), a video consultation, and the 404/409/422 answers.
 */
import { sql } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ownerActor,
  seedApp,
  seedUser,
  seedVet,
  TestClient,
  userClient,
  vetActor,
  vetClient,
} from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";

const OFFER_MS = 1000;
const GRACE_MS = 700;
const TRANSFER_MS = 2500;

for (const redis of [false, true]) {
  describe(`referrals over sockets (${redis ? "redis" : "memory"} store)`, () => {
    let t: TestGateway;
    let app: Awaited<ReturnType<typeof seedApp>>;
    const clients: TestClient[] = [];
    const track = <T extends TestClient>(c: T): T => {
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      t = await startTestGateway({
        redis,
        env: {
          OFFER_TIMEOUT_MS: String(OFFER_MS),
          VET_GRACE_MS: String(GRACE_MS),
          TRANSFER_TIMEOUT_MS: String(TRANSFER_MS),
          USER_GRACE_MS: "0",
          WRAPUP_MS: "0",
        },
      });
      app = await seedApp(t.gateway);
      // A webhook URL (never reached: the rows are what this file checks).
      await t.database.db.execute(
        sql`update apps set webhook_url = 'https://hooks.example.test/vcg' where id = ${app.id}`,
      );
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      await expect.poll(async () => (await t.gateway.engine.stats()).open_consultations, { timeout: 5000 }).toBe(0);
    });
    afterAll(() => t.close());

    /** Vet A and an owner in an active consultation, vet B online and free. */
    async function setup(type: "chat" | "video" = "chat") {
      const vetA = await seedVet(t.gateway);
      const a = track(await vetClient(t.url, vetA.token));
      const owner = await seedUser(t.gateway, app.id);
      const u = track(await userClient(t.url, owner.token));
      const req = await u.ask("consult:request", { conversation_request: type, pet_id: owner.petId });
      const id = req.data.consultation_id as string;
      await a.next("consult:offer", (p) => p.consultation_id === id);
      expect((await a.ask("consult:accept", { consultation_id: id })).status_code).toBe(200);
      await u.next("consult:matched");
      const vetB = await seedVet(t.gateway);
      const b = track(await vetClient(t.url, vetB.token));
      return { vetA, a, owner, u, id, vetB, b };
    }

    const live = (id: string) => t.gateway.engine["store"].getConsultation(id);
    const spells = async (id: string) => {
      const r = await t.database.db.execute(
        sql`select vet_id, left_at is not null as left from consultation_vets where consultation_id = ${id} order by joined_at, vet_id`,
      );
      return (r as { rows: Array<{ vet_id: number; left: boolean }> }).rows.map((x) => ({
        vet_id: Number(x.vet_id),
        left: x.left,
      }));
    };
    const referralEvents = async (id: string) => {
      await t.gateway.engine.flush();
      const history = await t.gateway.ctx.repos.ledger.history(id);
      return history
        .map((h) => (h.detail as { referral?: string } | null)?.referral)
        .filter((x): x is string => typeof x === "string");
    };

    it("warm: the named vet gets the offer with the note; both hold it until the first leaves; the record keeps both", async () => {
      const { vetA, a, u, id, vetB, b } = await setup();
      const ack = await a.ask("consult:transfer", {
        consultation_id: id,
        to: { vet_email: vetB.email },
        note: "Skin issue, needs derm",
        mode: "warm",
      });
      expect(ack).toMatchObject({ status_code: 200, data: { consultation_id: id, referral: "pending" } });
      const offer = await b.next("consult:offer", (p) => p.consultation_id === id);
      expect(offer.referral).toEqual({
        from_vet: { id: vetA.id, name: `${vetA.firstName} ${vetA.lastName}` },
        note: "Skin issue, needs derm",
      });
      expect(offer.transferred).toBeUndefined();
      // Until a vet accepts, the first vet keeps it.
      expect((await live(id))?.vetId).toBe(vetA.id);
      const acc = await b.ask("consult:accept", { consultation_id: id });
      expect(acc).toMatchObject({ status_code: 200, data: { consultation_id: id } });
      const moved = await u.next("consult:transferred");
      expect(moved).toMatchObject({ consultation_id: id, vet: acc.data.vet });
      expect(moved.vet.username).toBe(`${vetB.firstName} ${vetB.lastName}`);
      expect(await a.next("consult:transferred")).toMatchObject({ consultation_id: id, mode: "warm" });
      expect(await live(id)).toMatchObject({ vetId: vetB.id, leavingVetId: vetA.id });
      // The end belongs to the vet holding it last; the first may only leave.
      expect((await a.ask("consult:end", { consultation_id: id })).status_code).toBe(404);
      expect((await b.ask("consult:leave", { consultation_id: id })).status_code).toBe(409);
      expect(
        (
          await a.ask("consult:feedback", {
            consultation_id: id,
            recommendation: "r",
            reason: "r",
            outcome: "resolved",
          })
        ).status_code,
      ).toBe(404);
      expect(await spells(id)).toEqual([
        { vet_id: vetA.id, left: false },
        { vet_id: vetB.id, left: false },
      ]);
      // A console reload during the overlap resumes it, marked leaving.
      const reloaded = track(await new TestClient(t.url, "/vet", vetA.token).ready());
      expect(await reloaded.next("consult:state", (p) => p.consultation_id === id)).toMatchObject({
        leaving: true,
        status: "active",
      });
      expect((await a.ask("consult:leave", { consultation_id: id })).status_code).toBe(200);
      expect((await live(id))?.leavingVetId ?? null).toBeNull();
      expect(await spells(id)).toEqual([
        { vet_id: vetA.id, left: true },
        { vet_id: vetB.id, left: false },
      ]);
      expect(await referralEvents(id)).toEqual(["requested", "offered", "accepted", "left"]);
      // The admin lookup lists both vets' spells.
      const lookup = await request(t.url, "GET", `/admin/v1/consultations/${id}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(lookup.body.data.vets).toEqual([
        { vet_id: vetA.id, joined_at: expect.any(String), left_at: expect.any(String) },
        { vet_id: vetB.id, joined_at: expect.any(String), left_at: null },
      ]);
      expect(lookup.body.data.vet_id).toBe(vetB.id);
      const hooks = await t.database.db.execute(
        sql`select type from webhook_outbox where consultation_id = ${id} order by id`,
      );
      expect((hooks as { rows: Array<{ type: string }> }).rows.map((r) => r.type)).toEqual([
        "consultation.queued",
        "consultation.matched",
        "consultation.transferred",
      ]);
      expect((await b.ask("consult:end", { consultation_id: id })).status_code).toBe(200);
      expect(
        (
          await b.ask("consult:feedback", {
            consultation_id: id,
            recommendation: "Cream",
            reason: "Dermatitis",
            outcome: "follow_up",
          })
        ).status_code,
      ).toBe(200);
      expect((await t.gateway.ctx.repos.ledger.get(id))!.vetId).toBe(vetB.id);
    });

    it("cold, to any vet: the first vet lets go at once and is free again", async () => {
      const { vetA, a, u, id, vetB, b } = await setup();
      const ack = await a.ask("consult:transfer", { consultation_id: id, to: {}, note: "", mode: "cold" });
      expect(ack.status_code).toBe(200);
      const offer = await b.next("consult:offer", (p) => p.consultation_id === id);
      expect(offer.referral.from_vet.id).toBe(vetA.id);
      expect((await b.ask("consult:accept", { consultation_id: id })).status_code).toBe(200);
      expect(await a.next("consult:transferred")).toMatchObject({ consultation_id: id, mode: "cold" });
      await u.next("consult:transferred");
      expect((await live(id))?.vetId).toBe(vetB.id);
      expect((await t.gateway.engine["store"].getVet(vetA.id))?.activeConsultationIds).toEqual([]);
      expect((await a.ask("consult:leave", { consultation_id: id })).status_code).toBe(404);
      expect(await spells(id)).toEqual([
        { vet_id: vetA.id, left: true },
        { vet_id: vetB.id, left: false },
      ]);
      expect((await b.ask("consult:end", { consultation_id: id })).status_code).toBe(200);
    });

    it("a named vet declining: the first vet gets transfer_failed (declined) and keeps it", async () => {
      const { a, id, vetB, b, vetA } = await setup();
      await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: vetB.email }, note: "x" });
      await b.next("consult:offer", (p) => p.consultation_id === id);
      expect((await b.ask("consult:decline", { consultation_id: id })).status_code).toBe(200);
      expect(await a.next("consult:transfer_failed")).toEqual({ consultation_id: id, reason: "declined" });
      expect((await live(id))?.vetId).toBe(vetA.id);
      expect(await referralEvents(id)).toEqual(["requested", "offered", "failed"]);
      expect((await a.ask("consult:end", { consultation_id: id })).status_code).toBe(200);
    });

    it("a named vet missing the offer: transfer_failed (missed), that vet is set away", async () => {
      const { a, id, vetB, b } = await setup();
      await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: vetB.email }, note: "x" });
      await b.next("consult:offer", (p) => p.consultation_id === id);
      expect(await a.next("consult:transfer_failed", () => true, OFFER_MS + 3000)).toEqual({
        consultation_id: id,
        reason: "missed",
      });
      expect(await b.next("consult:offer_revoked")).toEqual({ consultation_id: id, reason: "timeout" });
      expect(await b.next("presence", (p) => p.reason === "offer_timeout")).toEqual({
        status: "away",
        reason: "offer_timeout",
      });
      await a.ask("consult:end", { consultation_id: id });
    });

    it("no vet within TRANSFER_TIMEOUT_MS: transfer_failed (timeout); a later referral may start", async () => {
      const { a, id, b } = await setup();
      // Nobody here speaks Finnish.
      await a.ask("consult:transfer", { consultation_id: id, to: { language: "fi" }, note: "" });
      await b.none("consult:offer", (p) => p.consultation_id === id, 300);
      expect(await a.next("consult:transfer_failed", () => true, TRANSFER_MS + 3000)).toEqual({
        consultation_id: id,
        reason: "timeout",
      });
      const again = await a.ask("consult:transfer", { consultation_id: id, to: {}, note: "" });
      expect(again.status_code).toBe(200);
      await b.next("consult:offer", (p) => p.consultation_id === id);
      expect((await a.ask("consult:transfer_cancel", { consultation_id: id })).status_code).toBe(200);
      await a.ask("consult:end", { consultation_id: id });
    });

    it("cancel withdraws the offer from the vet holding it", async () => {
      const { a, id, vetB, b } = await setup();
      await a.ask("consult:transfer", { consultation_id: id, to: { vet_email: vetB.email }, note: "" });
      await b.next("consult:offer", (p) => p.consultation_id === id);
      expect((await a.ask("consult:transfer_cancel", { consultation_id: id })).status_code).toBe(200);
      expect(await b.next("consult:offer_revoked")).toEqual({ consultation_id: id, reason: "cancelled" });
      expect((await b.ask("consult:accept", { consultation_id: id })).status_code).toBe(409);
      expect((await a.ask("consult:transfer_cancel", { consultation_id: id })).status_code).toBe(409);
      expect(await referralEvents(id)).toEqual(["requested", "offered", "cancelled"]);
      await a.none("consult:transfer_failed", () => true, 100);
      await a.ask("consult:end", { consultation_id: id });
    });

    it("the first vet dropping during a pending referral: VET_GRACE_MS, then the consultation is handed over (vet_left)", async () => {
      const { a, u, id, b } = await setup();
      await a.ask("consult:transfer", { consultation_id: id, to: { language: "fi" }, note: "" });
      a.close();
      const queued = await u.next("consult:queued", (p) => p.reason === "vet_left", GRACE_MS + 3000);
      expect(queued).toMatchObject({ consultation_id: id, reason: "vet_left" });
      const offer = await b.next("consult:offer", (p) => p.consultation_id === id);
      expect(offer).toMatchObject({ transferred: true });
      expect(offer.referral).toBeUndefined();
      expect((await b.ask("consult:accept", { consultation_id: id })).status_code).toBe(200);
      expect((await live(id))?.referral ?? null).toBeNull();
      await b.ask("consult:end", { consultation_id: id });
    });

    it("a video consultation: the next vet starts the call in the same room", async () => {
      const { a, u, id, b } = await setup("video");
      const call = await a.ask("call:start", { consultation_id: id });
      expect(call.status_code).toBe(200);
      await a.ask("consult:transfer", { consultation_id: id, to: {}, note: "Ortho" });
      await b.next("consult:offer", (p) => p.consultation_id === id && p.type === "video");
      const acc = await b.ask("consult:accept", { consultation_id: id });
      expect(acc.status_code).toBe(200);
      // The accept's token already grants the room the call is in.
      expect((decodeJwt(acc.data.twilioToken).grants as { video?: { room?: string } }).video?.room).toBe(
        call.data.room_sid,
      );
      await u.next("consult:transferred");
      const next = await b.ask("call:start", { consultation_id: id });
      expect(next.data.room_sid).toBe(call.data.room_sid);
      expect((await a.ask("consult:leave", { consultation_id: id })).status_code).toBe(200);
      await b.ask("consult:end", { consultation_id: id });
    });

    it("answers 404 (not the holder), 409 (not active, already pending) and 422 (note too long, bad to)", async () => {
      const { vetA, a, id, vetB, b } = await setup();
      const ask = (c: TestClient, payload: Record<string, unknown>) =>
        c.ask("consult:transfer", { consultation_id: id, note: "", ...payload });
      expect((await ask(b, { to: {} })).status_code).toBe(404);
      expect((await ask(a, { to: {}, note: "n".repeat(1001) })).status_code).toBe(422);
      expect((await ask(a, { to: { vet_email: "not-an-email" } })).status_code).toBe(422);
      expect((await ask(a, { to: { vet: 3 } })).status_code).toBe(422);
      expect((await ask(a, { to: { vet_email: "nobody@example.test" } })).status_code).toBe(422);
      expect((await ask(a, { to: { vet_email: vetA.email } })).status_code).toBe(422);
      expect((await ask(a, { to: {}, mode: "lukewarm" })).status_code).toBe(422);
      expect((await a.ask("consult:transfer", { consultation_id: id, note: "" })).status_code).toBe(422);
      expect((await a.ask("consult:transfer_cancel", { consultation_id: id })).status_code).toBe(409);
      expect((await a.ask("consult:leave", { consultation_id: id })).status_code).toBe(409);
      expect((await ask(a, { to: { vet_email: vetB.email }, note: "n".repeat(1000) })).status_code).toBe(200);
      expect((await ask(a, { to: {} })).status_code).toBe(409);
      await b.next("consult:offer", (p) => p.consultation_id === id);
      expect((await a.ask("consult:end", { consultation_id: id })).status_code).toBe(200);
      // Ending it withdrew the referral's offer.
      expect(await b.next("consult:offer_revoked")).toEqual({ consultation_id: id, reason: "cancelled" });
      expect((await ask(a, { to: {} })).status_code).toBe(409);
      expect(
        (await b.ask("consult:transfer", { consultation_id: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10", to: {}, note: "" }))
          .status_code,
      ).toBe(404);
    });
  });
}

describe("a referral across two nodes on one Redis, through the client SDK", () => {
  let t: TestGateway;
  let app: Awaited<ReturnType<typeof seedApp>>;
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    t = await startTestGateway({ redis: true, nodes: 2, env: { USER_GRACE_MS: "0", WRAPUP_MS: "0" } });
    app = await seedApp(t.gateway);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it("the first vet and the owner on node 1, the next vet on node 2: offered, accepted, everyone told", async () => {
    const vetA = await seedVet(t.gateway);
    const a = await vetActor(t.urls[0], vetA.token);
    const owner = await seedUser(t.gateway, app.id);
    const u = await ownerActor(t.urls[0], owner.token);
    clients.push(a, u);
    const { consultation_id: id } = await u.request({ conversation_request: "chat", pet_id: owner.petId });
    await a.next("consult:offer", (p) => p.consultation_id === id);
    await a.accept(id);
    const vetB = await seedVet(t.gateway);
    const b = await vetActor(t.urls[1], vetB.token);
    clients.push(b);
    expect(await a.transfer(id, { vet_email: vetB.email }, { note: "over there" })).toEqual({
      consultation_id: id,
      referral: "pending",
    });
    const offer = await b.next("consult:offer", (p) => p.consultation_id === id);
    expect(offer.referral.note).toBe("over there");
    const acc = await b.accept(id);
    expect((await u.next("consult:transferred")).vet).toEqual(acc.vet);
    expect((await a.next("consult:transferred")).mode).toBe("warm");
    // The first vet leaves through node 1; the next vet ends through node 2.
    await a.leave(id);
    await b.end(id);
    await u.next("consult:ended");
    // Cancel through the SDK: nothing is pending any more.
    await expect(a.cancelTransfer(id)).rejects.toMatchObject({ statusCode: 404 });
  });
});
