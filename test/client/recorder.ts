/**
 * Test helpers for SDK clients: a recorder that buffers typed events so a test never misses
 * one emitted before it started waiting, and token getters that count their calls.
 */
import type { BaseClient, ConnectionStatus, SocketToken } from "../../src/client/index.js";
import type { Gateway } from "../../src/server.js";

type Payload<S, E extends keyof S> = S[E] extends (p: infer P) => void ? P : never;

/** Records the given events of a client, and its status changes. */
export class Recorder<S> {
  readonly events: Array<{ event: keyof S; payload: unknown }> = [];
  readonly statuses: ConnectionStatus[] = [];
  private waiters: Array<() => void> = [];
  private readonly offs: Array<() => void> = [];

  constructor(
    readonly client: BaseClient<S>,
    names: Array<NoInfer<keyof S & string>>,
  ) {
    for (const name of names) {
      const handler = ((p: unknown) => this.push(name, p)) as S[typeof name];
      this.offs.push(client.on(name, handler));
    }
    this.offs.push(
      client.onStatus((s) => {
        this.statuses.push(s);
        this.wake();
      }),
    );
  }

  all<E extends keyof S>(event: E): Array<Payload<S, E>> {
    return this.events.filter((e) => e.event === event).map((e) => e.payload as Payload<S, E>);
  }

  /** The first `event` payload matching, waiting up to `timeoutMs`. */
  async next<E extends keyof S>(
    event: E,
    match: (p: Payload<S, E>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Payload<S, E>> {
    return this.until(() => this.all(event).find(match), `${String(event)}`, timeoutMs);
  }

  /** Resolves once the client reports `status`. */
  async status(status: ConnectionStatus, timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.client.status === status ? true : undefined), `status ${status}`, timeoutMs);
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.events.length = 0;
    this.statuses.length = 0;
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private async until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = probe();
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = JSON.stringify(this.events.map((e) => e.event));
        throw new Error(`timed out waiting for ${what}; status ${this.client.status}; events ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private push(event: keyof S, payload: unknown): void {
    this.events.push({ event, payload });
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A token getter that counts its calls; `tokens` are handed out first, then `issue()`'s. */
export function countingGetter(issue: () => Promise<SocketToken>, tokens: SocketToken[] = []) {
  const getter = {
    calls: 0,
    get: async (): Promise<SocketToken> => {
      getter.calls += 1;
      return tokens.shift() ?? (await issue());
    },
  };
  return getter;
}

/** Issues `/user` socket tokens straight from a gateway (as its partner server would). */
export const ownerTokens = (gw: Gateway, appId: number, userId: number) => () =>
  gw.ctx.socketTokens.issue({ kind: "user", appId, userId });

/** `POST /vet/v1/login`, as a vet console does. */
export async function vetLogin(url: string, email: string, password: string): Promise<SocketToken> {
  const res = await fetch(`${url}/vet/v1/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { success: boolean; data: SocketToken; message: string[] };
  if (!body.success) throw new Error(`login failed: ${body.message.join(", ")}`);
  return { token: body.data.token, expires_at: body.data.expires_at };
}
