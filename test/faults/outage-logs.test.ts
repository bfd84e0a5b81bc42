/**
 * Logs under an outage (issue 26): during a 3 s PostgreSQL cut, 200 handshakes are refused
 * `unavailable`, and the log says so in a handful of lines, not one multi-kilobyte line each.
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedApp, seedUser } from "../support/actors.js";
import { capturingLogger, startGatewayBehindDbProxy, type GatewayBehindProxy } from "../support/gateway.js";

const GOAL_LINES = 20;

describe("logs during a 3 s PostgreSQL cut with 200 handshakes", () => {
  let env: GatewayBehindProxy;
  const captured = capturingLogger("info");

  beforeAll(async () => {
    env = await startGatewayBehindDbProxy("outagelog", { DATABASE_TIMEOUT_MS: "1000" }, captured.logger);
  });
  afterAll(async () => {
    await env?.close();
  });

  function handshake(token: string): Promise<string> {
    const s: Socket = io(env.url + "/user", {
      auth: { token },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    return new Promise<string>((resolve) => {
      s.once("connect", () => resolve("connected"));
      s.once("connect_error", (err: Error) => resolve(err.message));
    }).finally(() => s.disconnect());
  }

  it(`logs at most ${GOAL_LINES} lines, none with a stack or SQL, and every handshake is refused 'unavailable'`, async () => {
    const app = await seedApp(env.gw);
    const u = await seedUser(env.gw, app.id);
    const from = captured.lines.length;
    env.proxy.cut("refuse");
    const started = Date.now();
    const outcomes: string[] = [];
    // 200 handshakes spread over the 3 s, in waves of 20.
    for (let wave = 0; wave < 10; wave++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 20 }, () => handshake(u.token)))));
      await new Promise((r) => setTimeout(r, Math.max(0, started + (wave + 1) * 300 - Date.now())));
    }
    env.proxy.restore();
    expect(outcomes.filter((o) => o === "unavailable")).toHaveLength(200);
    // The repeats' summary comes at the end of its window.
    await new Promise((r) => setTimeout(r, 5500));
    const during = captured.lines.slice(from);
    const text = JSON.stringify(during);
    expect(during.length, text.slice(0, 2000)).toBeLessThanOrEqual(GOAL_LINES);
    expect(text).not.toMatch(/"stack"|select |insert |Failed query/i);
    const repeated = during.find((l) => l.msg === "handshake refused: storage unavailable (repeated)");
    expect(repeated, text.slice(0, 2000)).toBeDefined();
    expect(Number(repeated!.repeats)).toBeGreaterThan(100);
    expect(await handshake(u.token)).toBe("connected");
  }, 60_000);
});
