/**
 * A TCP proxy on 127.0.0.1 for fault tests: put it between the gateway and PostgreSQL or
 * Redis, then `cut()` the link the way a network fault looks and `restore()` it.
 */
import net from "node:net";

/**
 * How a cut looks to the client. `refuse`: live connections are reset and new ones are
 * closed at once (a server that went away). `stall`: live connections are reset and new
 * ones are accepted but never answered (a blackholed route), so only deadlines end them.
 */
export type CutMode = "refuse" | "stall";

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** `target` with its host and port replaced by the proxy's (a Redis or PostgreSQL URL). */
  url(target: string): string;
  /** Connections currently relayed. */
  readonly liveConnections: number;
  cut(mode?: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (host and port) on a free port of 127.0.0.1. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const stalled = new Set<net.Socket>();
  let mode: CutMode | null = null;

  const server = net.createServer((client) => {
    client.on("error", () => undefined);
    if (mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    if (mode === "stall") {
      // Read and drop whatever the client sends; never answer.
      stalled.add(client);
      client.on("data", () => undefined);
      client.on("close", () => stalled.delete(client));
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url(t: string) {
      const u = new URL(t);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    get liveConnections() {
      return pairs.size;
    },
    cut(m: CutMode = "refuse") {
      mode = m;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      mode = null;
      // Stalled connections stay dead, as after a real outage: clients must reconnect.
      for (const s of stalled) s.resetAndDestroy();
      stalled.clear();
    },
    async close() {
      mode = "refuse";
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      for (const s of stalled) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
