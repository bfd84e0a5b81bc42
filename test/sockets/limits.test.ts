/**
 * PROTOCOL §7 socket limits over real sockets: the per-socket event limit (429 ack, nothing
 * done), disconnection after flooding, the per-identity cap across two nodes on one Redis,
 * the 64 KiB frame limit, and browser origins.
 */
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../support/actors.js";
import { request, startTestGateway, type TestGateway } from "../support/gateway.js";

const disconnected = (c: TestClient) =>
  new Promise<string>((resolve) => {
    if (!c.socket.connected) resolve("already");
    c.socket.once("disconnect", (reason: string) => resolve(reason));
  });

describe("per-socket event limit", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { SOCKET_EVENTS_PER_S: "5", SOCKET_FLOOD_DISCONNECT_S: "2" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("answers 429 Too Many Requests over the bucket, and does nothing for those events", async () => {
    const app = await seedApp(gw.gateway);
    const u = await seedUser(gw.gateway, app.id);
    const c = await userClient(gw.url, u.token);
    const acks = await Promise.all(
      Array.from({ length: 30 }, () => c.ask("consult:request", { conversation_request: "chat", pet_id: u.petId })),
    );
    const ok = acks.filter((a) => a.success);
    const limited = acks.filter((a) => a.status_code === 429);
    expect(ok.length + limited.length).toBe(30);
    // 5 a second plus a burst of 5 more.
    expect(ok.length).toBeLessThanOrEqual(10);
    expect(limited[0]).toEqual({ success: false, status_code: 429, message: ["Too Many Requests"], data: [] });
    // Only one consultation, however many requests got through.
    expect(new Set(ok.map((a) => a.data.consultation_id)).size).toBe(1);
    c.close();
  });

  it("disconnects a socket that keeps flooding, telling it why; the gateway keeps serving", async () => {
    const v = await seedVet(gw.gateway);
    const c = await vetClient(gw.url, v.token, false);
    const gone = disconnected(c);
    const started = Date.now();
    const flood = setInterval(() => c.socket.emit("presence:set", { status: "away" }, () => undefined), 10);
    try {
      expect(await gone).toBe("io server disconnect");
    } finally {
      clearInterval(flood);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(c.all("session:closed")).toEqual([{ reason: "flooding" }]);
    const again = await vetClient(gw.url, v.token, true);
    again.close();
  });

  it("closes a socket whose frame is over 64 KiB", async () => {
    const v = await seedVet(gw.gateway);
    const c = await vetClient(gw.url, v.token, false);
    const gone = disconnected(c);
    c.socket.emit("consult:feedback", { consultation_id: "x", recommendation: "a".repeat(70 * 1024), reason: "b" }, () => undefined);
    expect(await gone).toMatch(/transport/);
    expect((await request(gw.url, "GET", "/healthz")).status).toBe(200);
  });
});

describe("sockets per identity across two nodes", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ redis: true, nodes: 2, env: { MAX_SOCKETS_PER_USER: "2", MAX_SOCKETS_PER_VET: "2" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("closes the oldest /user socket with reason replaced when a third connects on another node", async () => {
    const app = await seedApp(gw.gateway);
    const u = await seedUser(gw.gateway, app.id);
    const first = await userClient(gw.urls[0], u.token);
    await new Promise((r) => setTimeout(r, 20));
    const second = await userClient(gw.urls[1], u.token);
    await new Promise((r) => setTimeout(r, 20));
    const gone = disconnected(first);
    const third = await userClient(gw.urls[1], u.token);
    expect(await gone).toBe("io server disconnect");
    expect(first.all("session:closed")).toEqual([{ reason: "replaced" }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.socket.connected && third.socket.connected).toBe(true);
    expect(second.all("session:closed")).toEqual([]);
    // Another owner is not affected.
    const other = await seedUser(gw.gateway, app.id);
    const o = await userClient(gw.urls[0], other.token);
    await new Promise((r) => setTimeout(r, 300));
    expect(o.socket.connected && second.socket.connected).toBe(true);
    for (const c of [second, third, o]) c.close();
  });

  it("applies MAX_SOCKETS_PER_VET on /vet the same way", async () => {
    const v = await seedVet(gw.gateway);
    const a = await vetClient(gw.urls[1], v.token, false);
    await new Promise((r) => setTimeout(r, 20));
    const b = await vetClient(gw.urls[0], v.token, false);
    await new Promise((r) => setTimeout(r, 20));
    const gone = disconnected(a);
    const c = await vetClient(gw.urls[0], v.token, false);
    expect(await gone).toBe("io server disconnect");
    expect(a.all("session:closed")).toEqual([{ reason: "replaced" }]);
    expect(b.socket.connected && c.socket.connected).toBe(true);
    b.close();
    c.close();
  });
});

describe("browser origins and security headers", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { CORS_ORIGINS: "https://console.example.com" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const handshake = (origin: string | undefined, token: string) =>
    new Promise<string>((resolve) => {
      const s = connect(`${gw.url}/vet`, {
        auth: { token },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        ...(origin ? { extraHeaders: { origin } } : {}),
      });
      s.once("connect", () => {
        s.disconnect();
        resolve("connected");
      });
      s.once("connect_error", (err: Error) => resolve(`refused: ${err.message}`));
    });

  it("lets sockets connect from CORS_ORIGINS, the same origin or no browser at all, and refuses other origins", async () => {
    const v = await seedVet(gw.gateway);
    expect(await handshake(undefined, v.token)).toBe("connected");
    expect(await handshake("https://console.example.com", v.token)).toBe("connected");
    expect(await handshake(gw.url, v.token)).toBe("connected");
    expect(await handshake("https://evil.example", v.token)).toMatch(/^refused/);
  });

  it("REST: CORS headers only for listed origins; helmet headers on every answer", async () => {
    const listed = await request(gw.url, "GET", "/healthz", { headers: { origin: "https://console.example.com" } });
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://console.example.com");
    const other = await request(gw.url, "GET", "/healthz", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    for (const res of [listed, await request(gw.url, "GET", "/api/v2/nope/media-url"), await request(gw.url, "POST", "/nothing")]) {
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });
});
