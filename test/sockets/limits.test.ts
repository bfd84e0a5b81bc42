/**
 * PROTOCOL §7 socket limits over real sockets: the per-socket event limit (429 ack, nothing
 * done), disconnection after flooding, the per-identity cap across two nodes on one Redis,
 * the 64 KiB frame limit, and browser origins.
 */
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser, seedVet, TestClient, userClient, vetClient } from "../support/actors.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";

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
    c.socket.emit(
      "consult:feedback",
      { consultation_id: "x", recommendation: "a".repeat(70 * 1024), reason: "b" },
      () => undefined,
    );
    expect(await gone).toMatch(/transport/);
    expect((await request(gw.url, "GET", "/healthz")).status).toBe(200);
  });
});

describe("backpressure on a flooding WebSocket", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", env: { SOCKET_EVENTS_PER_S: "5", SOCKET_FLOOD_DISCONNECT_S: "10" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  /** The node's `ws` socket under this client's engine.io connection. */
  const serverWebSocket = (c: TestClient) => {
    const s = gw.gateway.sockets.io.of("/vet").sockets.get(c.socket.id!);
    const transport = s?.conn.transport as unknown as {
      name: string;
      socket: { isPaused: boolean; pause(): void; resume(): void };
    };
    expect(transport.name).toBe("websocket");
    return transport.socket;
  };

  it("stops reading a socket refused more than twice its burst, each pause of the streak twice as long, and answers every event it read", async () => {
    const v = await seedVet(gw.gateway);
    const c = await vetClient(gw.url, v.token, false);
    const ws = serverWebSocket(c);
    const sent = 3000;
    let answered = 0;
    let refusals = 0;
    let flooding!: () => void;
    const refused = new Promise<void>((resolve) => (flooding = resolve));
    const started = Date.now();
    // How long each pause of the node's reading lasted: its pause() and resume() are timed.
    const pauses: number[] = [];
    let pausedAt = 0;
    const pause = ws.pause.bind(ws);
    const resume = ws.resume.bind(ws);
    ws.pause = () => {
      pausedAt = Date.now();
      pause();
    };
    ws.resume = () => {
      pauses.push(Date.now() - pausedAt);
      resume();
    };
    const acks = Array.from({ length: sent }, () =>
      c.ask("presence:set", { status: "away" }, 30_000).then((a: { status_code: number }) => {
        answered++;
        // Twice the burst (10) refused, and one more.
        if (a.status_code === 429 && ++refusals === 21) flooding();
        return a;
      }),
    );
    try {
      await refused;
      // Reading is paused: what the client sent after that waits in the connection.
      expect(ws.isPaused).toBe(true);
      expect(answered).toBeLessThan(sent);
      const all = await Promise.all(acks);
      const seconds = (Date.now() - started) / 1000;
      expect(all.every((a) => a.status_code === 200 || a.status_code === 429)).toBe(true);
      const ok = all.filter((a) => a.status_code === 200).length;
      // The bucket (5 a second, a burst of as many again) bounds what was done.
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(10 + Math.ceil(seconds * 8));
      // A quiet client is read and served again once the last pause is over (≤ 10 s, the
      // disconnect deadline of the streak).
      await expect.poll(() => ws.isPaused, { timeout: 10_000, interval: 20 }).toBe(false);
    } finally {
      ws.pause = pause;
      ws.resume = resume;
    }
    expect(c.socket.connected).toBe(true);
    expect((await c.ask("presence:set", { status: "available" })).status_code).toBe(200);
    // The first pause waits for the bucket (≤ 2 s, its burst allowance's window); the next
    // lasts twice as long (timer slack aside).
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    expect(pauses[0]).toBeLessThanOrEqual(2_100);
    expect(pauses[1]).toBeGreaterThan(pauses[0] * 1.5);
    c.close();
  });
});

describe("sockets per identity across two nodes", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      redis: true,
      nodes: 2,
      env: { MAX_SOCKETS_PER_USER: "2", MAX_SOCKETS_PER_VET: "2" },
    });
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
    for (const res of [
      listed,
      await request(gw.url, "GET", "/api/v2/nope/media-url"),
      await request(gw.url, "POST", "/nothing"),
    ]) {
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });
});

describe("consultations waiting per app (MAX_QUEUED_PER_APP)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ db: "pglite", redis: true, env: { MAX_QUEUED_PER_APP: "2" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const chat = (u: { petId: number }) => ({ conversation_request: "chat", pet_id: u.petId });

  it("refuses consult:request with 429 once the app has that many waiting; other apps, own requests and talk-to-vet are not capped", async () => {
    const app = await seedApp(gw.gateway);
    const other = await seedApp(gw.gateway);
    const v = await seedVet(gw.gateway);
    const vet = await vetClient(gw.url, v.token);
    const owners = await Promise.all([1, 2, 3].map(() => seedUser(gw.gateway, app.id)));
    const [c1, c2, c3] = await Promise.all(owners.map((o) => userClient(gw.url, o.token)));

    // Two requests wait; the vet declines both, so it is free again while they wait (excluded from them).
    const ids: string[] = [];
    for (const [c, o] of [
      [c1, owners[0]],
      [c2, owners[1]],
    ] as const) {
      const r = await c.ask("consult:request", chat(o));
      expect(r.success).toBe(true);
      ids.push(r.data.consultation_id);
      await vet.next("consult:offer", (p) => p.consultation_id === r.data.consultation_id);
      expect((await vet.ask("consult:decline", { consultation_id: r.data.consultation_id })).success).toBe(true);
    }

    const refused = await c3.ask("consult:request", chat(owners[2]));
    expect(refused).toEqual({
      success: false,
      status_code: 429,
      message: ["Too many consultations are waiting for this app."],
      data: [],
    });
    // The owner with a waiting request gets it back, not a 429.
    expect((await c1.ask("consult:request", chat(owners[0]))).data).toMatchObject({
      consultation_id: ids[0],
      status: "queued",
    });
    // talk-to-vet assigns at once and never queues: the cap does not apply to it.
    const direct = await request(gw.url, "POST", `/api/v2/${app.name}/talk-to-vet`, {
      headers: { authorization: basicAuth(app.name, app.secret) },
      body: { email: owners[2].email, conversation_request: "chat", pet_id: owners[2].petId },
    });
    expect(direct.status).toBe(200);
    expect((await c3.ask("consult:end", { consultation_id: direct.body.data.consultation_id })).success).toBe(true);

    // Another app is not affected (its request goes to the free vet, so it comes after talk-to-vet).
    const o = await seedUser(gw.gateway, other.id);
    const co = await userClient(gw.url, o.token);
    expect((await co.ask("consult:request", chat(o))).success).toBe(true);
    // A cancelled request makes room again.
    expect((await c2.ask("consult:cancel", { consultation_id: ids[1] })).success).toBe(true);
    const again = await c3.ask("consult:request", chat(owners[2]));
    expect(again.data).toMatchObject({ status: "queued" });

    // The refused request is on record, cancelled with its reason.
    const deadline = Date.now() + 5000;
    let rows: Array<{ user_id: number; status: string; end_reason: string | null }> = [];
    while (Date.now() < deadline) {
      const list = await request(gw.url, "GET", `/admin/v1/consultations?app_id=${String(app.id)}&status=cancelled`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      rows = list.body.data.list;
      if (rows.some((r) => r.end_reason === "app_queue_full")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.filter((r) => r.end_reason === "app_queue_full")).toEqual([
      expect.objectContaining({ user_id: owners[2].userId }),
    ]);
    for (const c of [c1, c2, c3, co, vet]) c.close();
  });
});
