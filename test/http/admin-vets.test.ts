/** PROTOCOL §6: `PATCH /admin/v1/vets/{id} {active}` disables and restores a vet, end to end. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../support/actors.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";

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
  const login = (email: string) => request(t.url, "POST", "/vet/v1/login", { body: { email, password: "password-123" } });

  it("closes the vet's sockets, moves their offer on, refuses login and tokens; restoring lets them back", async () => {
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
    expect(res.body).toMatchObject({ success: true, message: ["Vet disabled."], data: { id: vetA.id, email: vetA.email, active: false } });
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
    expect(refused.body).toEqual({ success: false, status_code: 403, message: ["This vet account is disabled."], data: [] });
    // A wrong password stays the plain 401, disabled or not.
    const wrong = await request(t.url, "POST", "/vet/v1/login", { body: { email: vetA.email, password: "nope-nope" } });
    expect(wrong.status).toBe(401);

    const restored = await patch(vetA.id, { active: true });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ message: ["Vet enabled."], data: { active: true } });
    expect((await login(vetA.email)).status).toBe(200);
    const again = await new TestClient(t.url, "/vet", vetA.token).ready();
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
    for (const body of [{}, { active: "no" }, { active: 0 }]) {
      const res = await patch(vet.id, body);
      expect(res.status).toBe(422);
      expect(res.body.message).toEqual([body.active === undefined ? "The active field is required." : "The active field must be true or false."]);
    }
    const extra = await patch(vet.id, { active: false, email: "x@y.z" });
    expect(extra.status).toBe(422);
    expect(extra.body.message).toEqual(["The email field is not allowed."]);
    expect((await patch(vet.id, { active: false }, {})).status).toBe(401);
    // Nothing changed for the vet of the refused calls.
    expect((await login(vet.email)).status).toBe(200);
  });
});
