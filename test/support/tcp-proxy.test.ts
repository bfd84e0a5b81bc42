/** The fault-test TCP proxy itself: relays, cuts (refuse and stall) and restores. */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** Sends `line` and resolves with the first reply, or with `error`/`timeout`. */
function roundTrip(port: number, line: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const done = (v: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done("timeout"), timeoutMs);
    s.once("connect", () => s.write(line));
    s.once("data", (d) => done(d.toString()));
    s.once("error", () => done("error"));
    s.once("close", () => done("error"));
  });
}

describe("tcp proxy", () => {
  let echo: net.Server;
  let proxy: TcpProxy;
  beforeAll(async () => {
    echo = net.createServer((s) => s.on("data", (d) => s.write(`echo:${d.toString()}`)));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
    proxy = await startTcpProxy({ host: "127.0.0.1", port: (echo.address() as net.AddressInfo).port });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it("relays both ways and rewrites URLs to itself", async () => {
    expect(await roundTrip(proxy.port, "hi")).toBe("echo:hi");
    expect(proxy.url("postgres://u@db.example:5432/x?a=1")).toBe(`postgres://u@127.0.0.1:${proxy.port}/x?a=1`);
  });

  it("cut('refuse') resets live connections and new ones; restore() relays again", async () => {
    const live = net.connect(proxy.port, "127.0.0.1");
    live.on("error", () => undefined);
    await new Promise((r) => live.once("connect", r));
    await expect.poll(() => proxy.liveConnections).toBe(1);
    const closed = new Promise((r) => live.once("close", r));
    proxy.cut("refuse");
    await closed;
    expect(proxy.liveConnections).toBe(0);
    expect(await roundTrip(proxy.port, "x")).toBe("error");
    proxy.restore();
    expect(await roundTrip(proxy.port, "back")).toBe("echo:back");
  });

  it("cut('stall') accepts new connections but never answers", async () => {
    proxy.cut("stall");
    expect(await roundTrip(proxy.port, "anyone?", 300)).toBe("timeout");
    proxy.restore();
    expect(await roundTrip(proxy.port, "again")).toBe("echo:again");
  });
});
