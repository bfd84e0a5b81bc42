/**
 * Property-based fuzzing of every socket event (PROTOCOL §7): any JSON, wrong types, huge
 * strings and prototype-pollution keys. Every acknowledgement is an envelope and never a
 * 5xx, events without a callback are ignored, and the sockets keep working afterwards.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, userClient, vetClient, type TestClient } from "../../support/actors.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";

const SEED = 20261201;
const RUNS = 15;

const key = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "consultation_id",
    "pet_id",
    "status",
    "room_sid",
    "conversation_request",
    "recommendation",
  ),
  fc.string({ maxLength: 10 }),
);
const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(key, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 40_000 })), { maxKeys: 5 }),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"polluted":"yes"},"consultation_id":"x"}') as unknown,
    JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as unknown,
    { consultation_id: ["a"], pet_id: { $gt: 0 }, status: 1 },
  ),
);

const VET_EVENTS = [
  "presence:set",
  "consult:accept",
  "consult:decline",
  "consult:end",
  "consult:feedback",
  "call:start",
  "token:refresh",
];
const USER_EVENTS = ["consult:request", "consult:cancel", "consult:end", "call:status", "token:refresh"];

describe("socket fuzzing", () => {
  let gw: TestGateway;
  let vet: TestClient;
  let owner: TestClient;
  let petId: number;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { SOCKET_EVENTS_PER_S: "100000", USER_GRACE_MS: "0" } });
    const app = await seedApp(gw.gateway);
    const u = await seedUser(gw.gateway, app.id);
    petId = u.petId;
    const v = await seedVet(gw.gateway);
    vet = await vetClient(gw.url, v.token, false);
    owner = await userClient(gw.url, u.token);
  });
  afterAll(async () => {
    owner?.close();
    vet?.close();
    await gw?.close();
  });

  const check = (client: TestClient, events: string[]) =>
    fc.assert(
      fc.asyncProperty(fc.constantFrom(...events), payload, fc.boolean(), async (event, p, withAck) => {
        if (!withAck) {
          client.socket.emit(event, p);
          return;
        }
        const ack = await client.ask(event, p);
        expect(ack.status_code, `${event} ${JSON.stringify(p).slice(0, 100)}`).toBeLessThan(500);
        expect(ack).toMatchObject({ success: ack.status_code < 400 });
        expect(Array.isArray(ack.message)).toBe(true);
        // token:refresh takes any object; everything else needs fields junk does not carry.
        if (event !== "token:refresh")
          expect(ack.status_code, `${event} ${JSON.stringify(p).slice(0, 100)}`).toBeGreaterThanOrEqual(400);
        if (ack.status_code >= 400) expect(ack.data).toEqual([]);
      }),
      { seed: SEED, numRuns: RUNS * events.length, endOnFailure: true },
    );

  it("every /vet event answers junk with a 4xx envelope", async () => {
    await check(vet, VET_EVENTS);
  }, 60_000);

  it("every /user event answers junk with a 4xx envelope", async () => {
    await check(owner, USER_EVENTS);
  }, 60_000);

  it("the same sockets still work afterwards and nothing polluted Object.prototype", async () => {
    expect(vet.socket.connected && owner.socket.connected).toBe(true);
    expect((await vet.ask("presence:set", { status: "available" })).data).toEqual({ status: "available" });
    const req = await owner.ask("consult:request", { conversation_request: "chat", pet_id: petId });
    expect(req.success).toBe(true);
    expect((await owner.ask("consult:cancel", { consultation_id: req.data.consultation_id })).status_code).toBeLessThan(
      500,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
