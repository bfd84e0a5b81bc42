/**
 * A throwaway `redis-server` for fault tests: no persistence, bound to 127.0.0.1 on a spare
 * port, so a test can restart it empty (as Redis without persistence comes back) without
 * touching the shared Redis other test files use.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

export interface ThrowawayRedis {
  readonly port: number;
  /** `redis://127.0.0.1:{port}`. */
  readonly url: string;
  /** Stops the server and starts a new, empty one on the same port. */
  restart(): Promise<void>;
  /** Stops the server (SIGKILL: no goodbye to clients, like a crash). */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (free when asked; the server binds it right after). */
async function sparePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Resolves once the port accepts connections, or rejects after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${String(child.exitCode)}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${String(port)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function launch(port: number): ChildProcess {
  const child = spawn(
    process.env.TEST_REDIS_SERVER ?? "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
      "--loglevel",
      "warning",
    ],
    { stdio: "ignore" },
  );
  child.on("error", () => undefined);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

/** Starts `redis-server` (or `$TEST_REDIS_SERVER`) on a spare port. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await sparePort();
  let child = launch(port);
  await waitForPort(port, 5000, child);
  return {
    port,
    url: `redis://127.0.0.1:${String(port)}`,
    async restart() {
      await kill(child);
      child = launch(port);
      await waitForPort(port, 5000, child);
    },
    stop: () => kill(child),
  };
}
