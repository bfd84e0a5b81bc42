/**
 * PROTOCOL §7 "Revocation": disabling, enabling and a new password bump the vet's session
 * version; older tokens are refused at the handshake, at renewal and at `token:refresh`, and
 * the vet's sockets are closed. A renewed token never outlives VET_SESSION_MAX_S.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SocketTokens } from "../../../src/auth/socket-tokens.js";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { TestClient } from "../../support/actors.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const PASSWORD = "first-password-0123";

describe("revoking vet sessions", () => {
  let gw: TestGateway;
  let vetId: number;
  let email: string;
  let n = 0;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    gw = await startTestGateway({ redis: true, nodes: 2, env: { VET_SESSION_MAX_S: "7200" } });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await gw?.close();
  });

  const newVet = async () => {
    email = `revoked${++n}@clinic.example`;
    const res = await request(gw.url, "POST", "/admin/v1/vets", {
      headers: admin,
      body: { email, password: PASSWORD, first_name: "Rae", last_name: "Voke" },
    });
    vetId = res.body.data.id as number;
  };
  const login = async (password = PASSWORD): Promise<string> => {
    const res = await request(gw.url, "POST", "/vet/v1/login", { body: { email, password } });
    expect(res.status).toBe(200);
    return res.body.data.token as string;
  };
  const connect = async (url: string, token: string) => {
    const c = new TestClient(url, "/vet", token);
    clients.push(c);
    return c.ready();
  };
  const handshake = (token: string) =>
    connect(gw.urls[1], token).then(
      () => "connected",
      (err: Error) => err.message,
    );
  const renew = (token: string) =>
    request(gw.url, "POST", "/vet/v1/token", { headers: { authorization: `Bearer ${token}` } });
  const closed = (c: TestClient) =>
    new Promise<void>((resolve) => (c.socket.disconnected ? resolve() : c.socket.once("disconnect", () => resolve())));

  it("a new password (PATCH) closes the vet's sockets on every node and refuses the old token everywhere", async () => {
    await newVet();
    const old = await login();
    const onFirst = await connect(gw.urls[0], old);
    const onSecond = await connect(gw.urls[1], old);
    expect((await renew(old)).status).toBe(200);

    const patched = await request(gw.url, "PATCH", `/admin/v1/vets/${String(vetId)}`, {
      headers: admin,
      body: { password: "second-password-0123" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.message).toEqual(["Vet password changed."]);
    await Promise.all([closed(onFirst), closed(onSecond)]);
    // Told why on both nodes before the close, so a console does not try the dead token again.
    expect(onFirst.all("session:closed")).toEqual([{ reason: "revoked" }]);
    expect(onSecond.all("session:closed")).toEqual([{ reason: "revoked" }]);

    expect(await handshake(old)).toBe("unauthorized");
    expect((await renew(old)).status).toBe(401);
    expect((await request(gw.url, "POST", "/vet/v1/login", { body: { email, password: PASSWORD } })).status).toBe(401);
    const fresh = await login("second-password-0123");
    expect(await handshake(fresh)).toBe("connected");
  });

  it("a token from before a disable stays dead after the vet is enabled again", async () => {
    await newVet();
    const before = await login();
    expect(
      (await request(gw.url, "PATCH", `/admin/v1/vets/${String(vetId)}`, { headers: admin, body: { active: false } }))
        .status,
    ).toBe(200);
    expect(await handshake(before)).toBe("unauthorized");
    expect(
      (await request(gw.url, "PATCH", `/admin/v1/vets/${String(vetId)}`, { headers: admin, body: { active: true } }))
        .status,
    ).toBe(200);
    expect(await handshake(before)).toBe("unauthorized");
    expect((await renew(before)).status).toBe(401);
    expect(await handshake(await login())).toBe("connected");
  });

  it("{active: true} on a vet already enabled signs nobody out", async () => {
    await newVet();
    const token = await login();
    expect(
      (await request(gw.url, "PATCH", `/admin/v1/vets/${String(vetId)}`, { headers: admin, body: { active: true } }))
        .status,
    ).toBe(200);
    expect(await handshake(token)).toBe("connected");
    expect((await renew(token)).status).toBe(200);
  });

  it("a change made outside the API (the CLI, the database): token:refresh answers 401 and closes; the sweep closes the rest with session:closed revoked", async () => {
    await newVet();
    const token = await login();
    const asking = await connect(gw.urls[0], token);
    const idle = await connect(gw.urls[1], token);
    // What `reset-vet-password` does: one write, no socket told.
    await gw.gateway.ctx.repos.vets.update(vetId, { password: "changed-by-cli-0123" });

    const ack = await asking.ask("token:refresh", {});
    expect(ack).toMatchObject({ success: false, status_code: 401 });
    await closed(asking);

    expect(idle.socket.connected).toBe(true);
    expect(await gw.gateways[1].sockets.sweepRevokedVets()).toBe(1);
    expect(await idle.next("session:closed")).toEqual({ reason: "revoked" });
    await closed(idle);
    expect(await gw.gateways[1].sockets.sweepRevokedVets()).toBe(0);
  });

  it(`renewal carries the login time: no token outlives VET_SESSION_MAX_S from the password login`, async () => {
    await newVet();
    const vet = (await gw.gateway.ctx.repos.vets.findById(vetId))!;
    // A login two hours ago (VET_SESSION_MAX_S=7200), renewed since: its token is still valid now.
    const past = new SocketTokens(
      gw.gateway.ctx.config.gatewaySecret,
      3 * 3600,
      { now: () => Date.now() - 7_200_000 },
      3 * 3600,
    );
    const loggedInLongAgo = await past.issueVetLogin(vet);
    expect(await handshake(loggedInLongAgo.token)).toBe("connected");
    const refused = await renew(loggedInLongAgo.token);
    expect(refused.status).toBe(401);

    // A login of a moment ago renews, and the renewal ends with the session.
    const recent = await login();
    const renewed = await renew(recent);
    expect(renewed.status).toBe(200);
    const loginPayload = JSON.parse(Buffer.from(recent.split(".")[1], "base64url").toString()) as { auth_time: number };
    expect(Date.parse(renewed.body.data.expires_at as string)).toBeLessThanOrEqual(
      (loginPayload.auth_time + 7200) * 1000,
    );
  });
});
