/**
 * Socket handshakes while PostgreSQL is cut (PROTOCOL §3, §6). The token check reads the
 * database: when it cannot, the handshake is refused `unavailable` (503 envelope with
 * `retry_after_s`), never `unauthorized`, and the SDK keeps retrying until it connects. A
 * token that is bad on its face stays `unauthorized` with or without the database.
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { SocketTokens } from "../../src/auth/socket-tokens.js";
import {
  createOwnerClient,
  createVetClient,
  type OwnerClient,
  type OwnerEvents,
  type SocketToken,
  type VetClient,
  type VetEvents,
} from "../../src/client/index.js";
import type { Gateway } from "../../src/server.js";
import { seedApp, seedUser, seedVet } from "../support/actors.js";
import { basicAuth, startGatewayBehindDbProxy, type GatewayBehindProxy } from "../support/gateway.js";
import { socketEventViolation } from "../support/reference-validator.js";
import type { CutMode, TcpProxy } from "../support/tcp-proxy.js";
import { countingGetter, ownerTokens, Recorder } from "../client/recorder.js";

const DATABASE_TIMEOUT_MS = 1000;
/** The SDK waits at least `retry_after_s` (5 s) plus jitter between refused attempts. */
const RECONNECT_WITHIN_MS = 20_000;
/** For the SDK tests: a few refused attempts, then the reconnect, on a loaded machine. */
const SDK_TEST = { timeout: 60_000 };

type Outcome = { connected: boolean; message?: string; data?: any };

describe("socket handshakes while PostgreSQL is cut", () => {
  let env: GatewayBehindProxy;
  let gw: Gateway;
  let url: string;
  let proxy: TcpProxy;
  let app: Awaited<ReturnType<typeof seedApp>>;
  let pastTokens: SocketTokens;
  const sockets: Socket[] = [];
  const clients: Array<VetClient | OwnerClient> = [];

  beforeAll(async () => {
    env = await startGatewayBehindDbProxy("hscut", { DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS) });
    ({ gw, url, proxy } = env);
    app = await seedApp(gw);
    pastTokens = new SocketTokens(gw.ctx.config.gatewaySecret, 60, { now: () => Date.now() - 120_000 });
  });
  afterEach(() => {
    proxy.restore();
    for (const s of sockets.splice(0)) s.disconnect();
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await env?.close();
  });

  /** One handshake without retries: connected, or the `connect_error` (checked against `/asyncapi.json`). */
  function handshake(ns: "/user" | "/vet", token: string | undefined): Promise<Outcome> {
    const s = io(url + ns, {
      auth: token === undefined ? {} : { token },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(s);
    return new Promise((resolve, reject) => {
      s.once("connect", () => resolve({ connected: true }));
      s.once("connect_error", (err: Error & { data?: unknown }) => {
        const refusal = { message: err.message, data: err.data };
        const violation = socketEventViolation(ns === "/user" ? "user" : "vet", "connect_error", refusal);
        if (violation) reject(new Error(violation));
        else resolve({ connected: false, ...refusal });
      });
    });
  }

  const unauthorized = {
    connected: false,
    message: "unauthorized",
    data: { success: false, status_code: 401, message: ["Unauthenticated."], data: [] },
  };
  const unavailable = {
    connected: false,
    message: "unavailable",
    data: { success: false, status_code: 503, message: ["Service Unavailable"], data: [], retry_after_s: 5 },
  };
  const handshakes = (result: string) =>
    gw.ctx.metrics.socketHandshakes
      .get()
      .then((m) => m.values.filter((v) => v.labels.result === result).reduce((n, v) => n + v.value, 0));

  it("with the database up: a good token connects, a bad one is refused 'unauthorized' with a 401 envelope", async () => {
    const u = await seedUser(gw, app.id);
    const v = await seedVet(gw);
    expect(await handshake("/user", u.token)).toEqual({ connected: true });
    expect(await handshake("/vet", v.token)).toEqual({ connected: true });
    expect(await handshake("/user", "not-a-token")).toEqual(unauthorized);
    expect(await handshake("/vet", undefined)).toEqual(unauthorized);
    expect(await handshake("/vet", u.token)).toEqual(unauthorized); // a user token on /vet
  });

  it.each(["refuse", "stall"] as CutMode[])(
    "during a cut (%s) a good token is refused 'unavailable' (503, retry_after_s), then connects once restored",
    async (mode) => {
      const u = await seedUser(gw, app.id);
      const v = await seedVet(gw);
      const before = await handshakes("unavailable");
      proxy.cut(mode);
      expect(await handshake("/user", u.token)).toEqual(unavailable);
      expect(await handshake("/vet", v.token)).toEqual(unavailable);
      expect(await handshakes("unavailable")).toBe(before + 2);
      proxy.restore();
      await expect.poll(async () => (await handshake("/user", u.token)).connected, { timeout: 10_000 }).toBe(true);
      expect(await handshake("/vet", v.token)).toEqual({ connected: true });
    },
  );

  it("a token that is bad on its face is 'unauthorized' during a cut too: the signature check needs no database", async () => {
    const u = await seedUser(gw, app.id);
    const v = await seedVet(gw);
    const expired = await pastTokens.issue({ kind: "user", appId: app.id, userId: u.userId });
    // A stalled link: any database read would end in 'unavailable', so 'unauthorized' proves none was made.
    proxy.cut("stall");
    expect(await handshake("/user", "not-a-token")).toEqual(unauthorized);
    expect(await handshake("/user", undefined)).toEqual(unauthorized);
    expect(await handshake("/user", expired.token)).toEqual(unauthorized);
    expect(await handshake("/vet", u.token)).toEqual(unauthorized); // wrong namespace
    expect(await handshake("/user", v.token)).toEqual(unauthorized);
  });

  it("a deleted user's or disabled vet's still-signed token: 'unavailable' while the database cannot say, 'unauthorized' once it can", async () => {
    const u = await seedUser(gw, app.id);
    const v = await seedVet(gw);
    await gw.ctx.repos.users.softDelete(app.id, u.userId, new Date());
    await gw.ctx.repos.vets.setActive(v.id, false);
    expect(await handshake("/user", u.token)).toEqual(unauthorized);
    expect(await handshake("/vet", v.token)).toEqual(unauthorized);
    proxy.cut("refuse");
    // The gateway cannot know the account is gone: it must not say so, nor let it in.
    expect(await handshake("/user", u.token)).toEqual(unavailable);
    expect(await handshake("/vet", v.token)).toEqual(unavailable);
    proxy.restore();
    await expect
      .poll(async () => (await handshake("/user", u.token)).message, { timeout: 10_000 })
      .toBe("unauthorized");
    expect(await handshake("/vet", v.token)).toEqual(unauthorized);
  });

  it("an unexpected failure of the token check is refused 'server_error' (500), not 'unauthorized'", async () => {
    const u = await seedUser(gw, app.id);
    // Not the database being away: a fault of the gateway itself (here injected).
    const spy = vi.spyOn(gw.ctx.repos.users, "findById").mockRejectedValue(new Error("not a storage error"));
    onTestFinished(() => spy.mockRestore());
    expect(await handshake("/user", u.token)).toEqual({
      connected: false,
      message: "server_error",
      data: { success: false, status_code: 500, message: ["Server Error"], data: [] },
    });
  });

  it(
    "an owner SDK client started during a cut keeps trying, and connects by itself once the database is back",
    SDK_TEST,
    async () => {
      const u = await seedUser(gw, app.id);
      const getter = countingGetter(ownerTokens(gw, app.id, u.userId));
      const before = await handshakes("unavailable");
      proxy.cut("refuse");
      const client = createOwnerClient({ url, getToken: getter.get });
      clients.push(client);
      const rec = new Recorder<OwnerEvents>(client, ["consult:state"]);
      await expect.poll(() => handshakes("unavailable"), { timeout: 10_000 }).toBeGreaterThan(before);
      expect(client.status).toBe("connecting");
      proxy.restore();
      await rec.status("connected", RECONNECT_WITHIN_MS);
      expect(rec.statuses).not.toContain("unauthorized");
      // The token was never in doubt: the retries kept it.
      expect(getter.calls).toBe(1);
      // And the connection works.
      const { consultation_id: id } = await client.request({ conversation_request: "chat", pet_id: u.petId });
      await client.cancel(id);
    },
  );

  it(
    "a connected vet whose link drops during a cut stays signed in and reconnects by itself once the database is back",
    SDK_TEST,
    async () => {
      const v = await seedVet(gw);
      const issue = () => gw.ctx.socketTokens.issueVetLogin(v);
      const getter = countingGetter(issue);
      const vet = createVetClient({ url, getToken: getter.get });
      clients.push(vet);
      const rec = new Recorder<VetEvents>(vet, ["presence"]);
      await rec.status("connected");
      rec.clear();
      const before = await handshakes("unavailable");
      proxy.cut("refuse");
      // A network blip: the transport closes under the vet's socket, so Socket.IO reconnects on its own.
      for (const s of gw.sockets.io.of("/vet").sockets.values()) s.conn.close();
      await rec.status("reconnecting");
      await expect.poll(() => handshakes("unavailable"), { timeout: 10_000 }).toBeGreaterThan(before);
      proxy.restore();
      await rec.status("connected", RECONNECT_WITHIN_MS);
      expect(rec.statuses).toEqual(["reconnecting", "connected"]);
      expect(getter.calls).toBe(1);
      expect(await vet.setAvailability("away")).toEqual({ status: "away" });
    },
  );

  it(
    "an SDK client whose token endpoint answers 503 during the cut keeps trying, and connects once it answers again",
    SDK_TEST,
    async () => {
      const u = await seedUser(gw, app.id);
      // The partner's token call, straight to the gateway's REST API: it reads the database too.
      const calls: number[] = [];
      const getToken = async (): Promise<SocketToken> => {
        const res = await fetch(`${url}/api/v2/${app.name}/socket-token`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: basicAuth(app.name, app.secret) },
          body: JSON.stringify({ email: u.email }),
        });
        calls.push(res.status);
        const body = (await res.json()) as { data: SocketToken; message: string[] };
        if (!res.ok) throw Object.assign(new Error(body.message.join(", ")), { status: res.status });
        return body.data;
      };
      proxy.cut("refuse");
      const client = createOwnerClient({ url, getToken });
      clients.push(client);
      const rec = new Recorder<OwnerEvents>(client, ["consult:state"]);
      // Four refusals in a row: more than a getter that fails for good is given (three retries).
      await expect.poll(() => calls.length, { timeout: RECONNECT_WITHIN_MS }).toBeGreaterThanOrEqual(4);
      expect(calls.slice(0, 4)).toEqual([503, 503, 503, 503]);
      expect(client.status).toBe("connecting");
      proxy.restore();
      await rec.status("connected", RECONNECT_WITHIN_MS);
      expect(rec.statuses).not.toContain("unauthorized");
      expect(calls.at(-1)).toBe(200);
    },
  );

  it("an SDK client with a bad token ends 'unauthorized' during a cut, as with the database up", SDK_TEST, async () => {
    const getter = countingGetter(() =>
      Promise.resolve({ token: "not-a-token", expires_at: new Date(Date.now() + 60_000).toISOString() }),
    );
    proxy.cut("refuse");
    const client = createOwnerClient({ url, getToken: getter.get });
    clients.push(client);
    const rec = new Recorder<OwnerEvents>(client, ["consult:state"]);
    await rec.status("unauthorized");
    expect(getter.calls).toBeGreaterThanOrEqual(2);
  });
});
