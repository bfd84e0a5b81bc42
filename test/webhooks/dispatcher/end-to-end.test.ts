/**
 * PROTOCOL §9 partner webhooks end to end: real gateways, PostgreSQL, Redis and a local
 * receiver that verifies every request with the `standardwebhooks` verifier.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webhookOutbox } from "../../../src/db/schema.js";
import { createDeliverer } from "../../../src/webhooks/delivery.js";
import { WEBHOOK_CLOSE_WAIT_MS } from "../../../src/webhooks/service.js";
import {
  ownerActor,
  seedApp,
  seedUser,
  seedVet,
  vetActor,
  type OwnerActor,
  type VetActor,
} from "../../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../support/webhook-receiver.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe("partner webhooks", () => {
  let t: TestGateway;
  let receiver: WebhookReceiver;
  let app: Awaited<ReturnType<typeof seedApp>>;
  let secret: string;
  const actors: Array<VetActor | OwnerActor> = [];
  beforeAll(async () => {
    // Two nodes on one database and Redis: either may deliver any event.
    t = await startTestGateway({
      redis: true,
      nodes: 2,
      env: { WEBHOOK_RETRY_BASE_MS: "50", WEBHOOK_RETRY_WINDOW_S: "2" },
    });
    receiver = await startWebhookReceiver();
    app = await seedApp(t.gateway);
    const set = await request(t.url, "PATCH", `/admin/v1/apps/${String(app.id)}`, {
      headers: admin,
      body: { webhook_url: receiver.url },
    });
    expect(set.status).toBe(200);
    expect(set.body.data).toMatchObject({
      id: app.id,
      webhook_url: receiver.url,
      webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]{32}$/),
    });
    secret = set.body.data.webhook_secret as string;
  });
  afterEach(() => {
    for (const a of actors.splice(0)) a.close();
    receiver.received.length = 0;
    receiver.script = [];
    receiver.fallback = { status: 204 };
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** One consultation from request to feedback: owner on node 0, vet on node 1. */
  async function consultation(): Promise<string> {
    const vet = await seedVet(t.gateway);
    const owner = await seedUser(t.gateway, app.id);
    const v = await vetActor(t.urls[1], vet.token);
    const o = await ownerActor(t.urls[0], owner.token);
    actors.push(v, o);
    // Asked of this vet by email, so consultations run side by side each meet their own vet.
    const { consultation_id: id } = await o.request({
      conversation_request: "chat",
      pet_id: owner.petId,
      doctor_email: vet.email,
    });
    await v.next("consult:offer", (p) => p.consultation_id === id);
    await v.accept(id);
    await v.end(id);
    await v.sendFeedback(id, "Keep an eye on it", "Mild symptoms", "clinic_visit");
    return id;
  }

  it("a full consultation: queued, matched, ended, feedback.submitted, in order, each signed (Standard Webhooks)", async () => {
    const id = await consultation();
    const got = await receiver.waitFor(4);
    receiver.verifyAll(secret);
    expect(got.map((r) => r.json.type)).toEqual([
      "consultation.queued",
      "consultation.matched",
      "consultation.ended",
      "feedback.submitted",
    ]);
    expect(new Set(got.map((r) => r.id)).size).toBe(4);
    const [queued, matched, ended, feedback] = got.map((r) => r.json);
    expect(queued.data.consultation).toMatchObject({
      id,
      status: "queued",
      vet: null,
      vets: [],
      ended_at: null,
      care: "treatment",
    });
    expect(matched.data.consultation).toMatchObject({
      id,
      status: "active",
      vet: { email: expect.stringContaining("@") },
      ended_at: null,
    });
    expect(matched.data.consultation.vets).toEqual([
      { vet_id: matched.data.consultation.vet.id, joined_at: expect.any(String), left_at: null },
    ]);
    expect(ended.data.consultation).toMatchObject({
      id,
      status: "ended",
      ended_by: "vet",
      ended_at: expect.any(String),
    });
    expect(ended.data.consultation.vets[0].left_at).toBe(ended.data.consultation.ended_at);
    expect(feedback.data.feedback).toEqual({
      recommendation: "Keep an eye on it",
      reason: "Mild symptoms",
      outcome: "clinic_visit",
    });
    // A tampered body does not verify.
    const { Webhook } = await import("standardwebhooks");
    const r = got[0];
    expect(() =>
      new Webhook(secret).verify(`${r.body} `, {
        "webhook-id": r.id,
        "webhook-timestamp": r.timestamp,
        "webhook-signature": r.signature,
      }),
    ).toThrow();
  });

  it("a receiver that fails twice gets the event on the third attempt; the log shows the attempts", async () => {
    receiver.script = [{ status: 500 }, { status: 503 }];
    const id = await consultation();
    const got = await receiver.waitFor(4 + 2);
    const queued = got.filter((r) => r.json.type === "consultation.queued");
    expect(queued).toHaveLength(3);
    expect(new Set(queued.map((r) => r.id)).size).toBe(1); // the same webhook-id on every attempt
    expect(new Set(queued.map((r) => r.body)).size).toBe(1); // and the same body
    receiver.verifyAll(secret);
    await expect
      .poll(async () => {
        const log = await request(t.url, "GET", `/admin/v1/apps/${String(app.id)}/webhooks`, { headers: admin });
        const rows = (
          log.body.data.deliveries as Array<{ consultation_id: string; type: string; attempts: number; status: string }>
        ).filter((d) => d.consultation_id === id);
        return rows.find((d) => d.type === "consultation.queued");
      })
      .toMatchObject({ status: "delivered", attempts: 3 });
    // In order: nothing of this consultation was sent before the queued event got through.
    const firstMatched = got.findIndex((r) => r.json.type === "consultation.matched");
    expect(got.slice(0, firstMatched).every((r) => r.json.type === "consultation.queued")).toBe(true);
  });

  it("a receiver down for the whole retry window: the event is failed, the next ones follow in order; an operator's retry sends it again", async () => {
    receiver.fallback = { status: 500 };
    const id = await consultation();
    await expect
      .poll(
        async () => {
          const log = await request(t.url, "GET", `/admin/v1/apps/${String(app.id)}/webhooks`, { headers: admin });
          return (log.body.data.deliveries as Array<{ consultation_id: string; status: string }>)
            .filter((d) => d.consultation_id === id)
            .map((d) => d.status);
        },
        { timeout: 15_000, interval: 250 },
      )
      .toEqual(["failed", "failed", "failed", "failed"]);
    const log = await request(t.url, "GET", `/admin/v1/apps/${String(app.id)}/webhooks`, { headers: admin });
    expect(log.body.data.health).toMatchObject({ failures_in_a_row: expect.any(Number), pending: 0 });
    expect(log.body.data.health.failures_in_a_row).toBeGreaterThanOrEqual(4);
    const queued = (
      log.body.data.deliveries as Array<{
        id: number;
        consultation_id: string;
        type: string;
        last_error: string;
        last_status: number;
      }>
    ).find((d) => d.consultation_id === id && d.type === "consultation.queued")!;
    expect(queued).toMatchObject({ last_status: 500, last_error: expect.stringContaining("HTTP 500") });

    receiver.fallback = { status: 200 };
    receiver.received.length = 0;
    const retried = await request(t.url, "POST", `/admin/v1/webhooks/${String(queued.id)}/retry`, { headers: admin });
    expect(retried.status).toBe(200);
    const again = await receiver.waitFor(1);
    expect(again[0].id).toBe(`msg_${String(queued.id)}`);
    receiver.verifyAll(secret);
    expect((await request(t.url, "POST", "/admin/v1/webhooks/999999999/retry", { headers: admin })).status).toBe(404);
  }, 30_000);

  it("two nodes never deliver one event twice while both are healthy, and keep each consultation's order", async () => {
    receiver.fallback = { status: 200, delayMs: 15 };
    const ids = await Promise.all(Array.from({ length: 6 }, () => consultation()));
    const got = await receiver.waitFor(6 * 4);
    await new Promise((r) => setTimeout(r, 500)); // anything sent twice would have arrived by now
    expect(receiver.received).toHaveLength(24);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(24);
    for (const id of ids) {
      const types = got.filter((r) => r.json.data.consultation.id === id).map((r) => r.json.type);
      expect(types).toEqual([
        "consultation.queued",
        "consultation.matched",
        "consultation.ended",
        "feedback.submitted",
      ]);
    }
  }, 30_000);

  it("a node killed mid-delivery loses nothing: its lease runs out and a live node delivers the event", async () => {
    const id = await consultation();
    await receiver.waitFor(4);
    receiver.received.length = 0;
    // What a node leaves behind when it dies holding an event: claimed (one attempt
    // counted), leased for a while, never recorded.
    const leasedUntil = new Date(Date.now() + 1_500);
    const [row] = await t.database.db
      .insert(webhookOutbox)
      .values({
        appId: app.id,
        consultationId: id,
        type: "consultation.ended",
        occurredAt: new Date(),
        nextAttemptAt: new Date(),
        attempts: 1,
        lockedUntil: leasedUntil,
      })
      .returning({ id: webhookOutbox.id });
    await new Promise((r) => setTimeout(r, 800));
    expect(receiver.received).toHaveLength(0); // nobody else sends it while the lease lasts
    const got = await receiver.waitFor(1, "consultation.ended", 10_000);
    expect(got[0].id).toBe(`msg_${String(row.id)}`);
    expect(got[0].at).toBeGreaterThanOrEqual(leasedUntil.getTime());
    receiver.verifyAll(secret);
    // Recorded just after the receiver answered.
    await expect
      .poll(async () => {
        const log = await request(t.url, "GET", `/admin/v1/apps/${String(app.id)}/webhooks`, { headers: admin });
        return (log.body.data.deliveries as Array<{ id: number; attempts: number; status: string }>).find(
          (d) => d.id === row.id,
        );
      })
      .toMatchObject({ status: "delivered", attempts: 2 });
  }, 20_000);
});

describe("webhook settings and safety", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ env: { WEBHOOK_ALLOW_PRIVATE: "false" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("refuses private, loopback and link-local targets when they are not allowed, when saved and again at delivery", async () => {
    const app = await seedApp(t.gateway);
    for (const url of [
      "http://127.0.0.1:9/hooks",
      "http://10.1.2.3/hooks",
      "http://169.254.169.254/latest",
      "http://[::1]/hooks",
      "http://localhost:9/x",
    ]) {
      const res = await request(t.url, "PATCH", `/admin/v1/apps/${String(app.id)}`, {
        headers: admin,
        body: { webhook_url: url },
      });
      expect(res.status, url).toBe(422);
      expect(res.body.message[0]).toMatch(/private, loopback or link-local|does not resolve/);
    }
    expect(
      (
        await request(t.url, "PATCH", `/admin/v1/apps/${String(app.id)}`, {
          headers: admin,
          body: { webhook_url: "ftp://example.com/x" },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await request(t.url, "PATCH", `/admin/v1/apps/${String(app.id)}`, {
          headers: admin,
          body: { webhook_url: "https://user:pw@example.com/x" },
        })
      ).status,
    ).toBe(422);
    // A URL saved before (or a name that resolves privately later) is refused at connect time.
    const deliverer = createDeliverer({ allowPrivate: false, httpsOnly: false });
    const receiver = await startWebhookReceiver();
    try {
      const result = await deliverer.deliver(receiver.url, "{}", {});
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/not allowed/i);
      expect(receiver.received).toHaveLength(0);
    } finally {
      deliverer.close();
      await receiver.close();
    }
  });

  it("does not follow redirects, reads little of a large answer, and gives up at the deadline", async () => {
    const receiver = await startWebhookReceiver();
    const deliverer = createDeliverer({ allowPrivate: true, httpsOnly: false, timeoutMs: 300 });
    try {
      receiver.script = [
        { status: 302, location: "http://127.0.0.1:1/elsewhere" },
        { status: 200, delayMs: 1_000 },
      ];
      const redirected = await deliverer.deliver(receiver.url, "{}", {});
      expect(redirected).toMatchObject({
        ok: false,
        status: 302,
        error: expect.stringContaining("redirect not followed"),
      });
      const slow = await deliverer.deliver(receiver.url, "{}", {});
      expect(slow).toMatchObject({
        ok: false,
        status: null,
        error: expect.stringContaining("no answer within 300 ms"),
      });
      expect(receiver.received).toHaveLength(2);
    } finally {
      deliverer.close();
      await receiver.close();
    }
  });

  it("only https in production", async () => {
    const { webhookUrlProblem } = await import("../../../src/webhooks/url-policy.js");
    expect(await webhookUrlProblem("http://partner.example.com/x", { httpsOnly: true, allowPrivate: true })).toBe(
      "The webhook url must use https.",
    );
    expect(await webhookUrlProblem("https://127.0.0.1/x", { httpsOnly: true, allowPrivate: true })).toBeNull();
    const deliverer = createDeliverer({ allowPrivate: true, httpsOnly: true });
    expect(await deliverer.deliver("http://127.0.0.1:9/x", "{}", {})).toMatchObject({
      ok: false,
      error: "url must use https",
    });
    deliverer.close();
  });

  it("creates an app with a webhook URL (secret shown once), rotates the secret, removes the URL; the secret is stored sealed", async () => {
    const res = await request(t.url, "POST", "/admin/v1/apps", {
      headers: admin,
      body: { name: "hooked", secret: "hooked-secret-0123456789", webhook_url: "https://partner.example.com/hooks" },
    });
    // WEBHOOK_ALLOW_PRIVATE=false: the name must resolve to public addresses; no DNS here.
    if (res.status === 422) {
      expect(res.body.message[0]).toMatch(/does not resolve/);
      return;
    }
    expect(res.status).toBe(201);
    const secret = res.body.data.webhook_secret as string;
    expect(secret).toMatch(/^whsec_/);
    const stored = await t.gateway.ctx.repos.apps.webhookTarget(res.body.data.id as number);
    expect(stored?.webhookSecretEnc).not.toContain(secret.slice(6));
    const rotated = await request(t.url, "POST", `/admin/v1/apps/${String(res.body.data.id)}/webhook-secret`, {
      headers: admin,
    });
    expect(rotated.body.data.webhook_secret).not.toBe(secret);
  });
});

describe("a node closing while a partner endpoint hangs", () => {
  it(`cuts deliveries in flight after ${String(WEBHOOK_CLOSE_WAIT_MS)} ms, so the shutdown keeps its budget; the event stays pending for another node`, async () => {
    const t = await startTestGateway({ env: { WEBHOOK_ALLOW_PRIVATE: "true" } });
    const receiver = await startWebhookReceiver();
    try {
      receiver.fallback = { status: 204, delayMs: 60_000 };
      const app = await seedApp(t.gateway);
      const set = await request(t.url, "PATCH", `/admin/v1/apps/${String(app.id)}`, {
        headers: admin,
        body: { webhook_url: receiver.url },
      });
      expect(set.status).toBe(200);
      const owner = await seedUser(t.gateway, app.id);
      const o = await ownerActor(t.url, owner.token);
      await o.request({ conversation_request: "chat", pet_id: owner.petId });
      o.close();
      // The delivery reached the receiver and hangs there.
      await receiver.waitFor(1);
      const started = Date.now();
      await t.gateway.webhooks.close();
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(WEBHOOK_CLOSE_WAIT_MS - 100);
      expect(took).toBeLessThan(WEBHOOK_CLOSE_WAIT_MS + 2000);
      const rows = await t.gateway.ctx.database.db.select().from(webhookOutbox);
      expect(rows.map((r) => [r.type, r.status])).toEqual([["consultation.queued", "pending"]]);
    } finally {
      await t.close();
      await receiver.close();
    }
  }, 30_000);
});
