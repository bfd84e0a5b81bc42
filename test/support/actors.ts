/**
 * Test actors over real sockets: apps, owners with pets, vets, and socket.io clients that
 * buffer every event so a test never misses one emitted before it started waiting.
 */
import { io as connect, type Socket } from "socket.io-client";
import type { Gateway } from "../../src/server.js";
import { checkSocketAck, socketEventViolation } from "./reference-validator.js";

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(++counter).toString(36)}`;

export async function seedApp(gw: Gateway, name = `app${unique()}`, secret = "secret-0123456789abcdef") {
  const app = await gw.ctx.repos.apps.create({ name, secret });
  return { ...app, secret };
}

/** An owner with one pet, and a `/user` socket token. */
export async function seedUser(gw: Gateway, appId: number, label = unique()) {
  const { user, pet } = await gw.ctx.repos.users.register(
    appId,
    { email: `owner-${label}@example.com`, firstName: `Owner${label}`, lastName: "Test", role: "users", emergencyFund: 0 },
    new Date(),
    { name: `Rex${label}`, species: "dog" },
  );
  const { token } = await gw.ctx.socketTokens.issue({ kind: "user", appId, userId: user.id });
  return { userId: user.id, petId: pet!.id, email: user.email, token };
}

/** A vet and a `/vet` socket token. */
export async function seedVet(gw: Gateway, label = unique()) {
  const vet = await gw.ctx.repos.vets.create({
    email: `vet-${label}@example.com`,
    password: "password-123",
    firstName: `Vet${label}`,
    lastName: "Doe",
  });
  const { token } = await gw.ctx.socketTokens.issue({ kind: "vet", vetId: vet.id });
  return { ...vet, token };
}

/** A socket.io client that records every server event. */
export class TestClient {
  readonly socket: Socket;
  readonly events: Array<{ event: string; payload: any }> = [];
  /** Server events whose payload did not match `/asyncapi.json`; `next()` fails on them. */
  readonly violations: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    url: string,
    readonly ns: "/user" | "/vet",
    token: string | undefined,
    transports: Array<"websocket" | "polling"> = ["websocket"],
  ) {
    this.socket = connect(url + ns, {
      auth: token === undefined ? {} : { token },
      transports,
      reconnection: false,
      forceNew: true,
    });
    this.socket.onAny((event: string, payload: unknown) => {
      const violation = socketEventViolation(ns === "/user" ? "user" : "vet", event, payload);
      if (violation) this.violations.push(violation);
      this.events.push({ event, payload });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves once connected; rejects with the `connect_error` message. */
  ready(): Promise<this> {
    if (this.socket.connected) return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve(this));
      this.socket.once("connect_error", (err: Error) => reject(err));
    });
  }

  /** Emits with an acknowledgement and resolves with the envelope. */
  async ask(event: string, payload?: unknown, timeoutMs = 5000): Promise<any> {
    const args = payload === undefined ? [] : [payload];
    const envelope: unknown = await this.socket.timeout(timeoutMs).emitWithAck(event, ...args);
    checkSocketAck(this.ns === "/user" ? "user" : "vet", event, envelope);
    return envelope;
  }

  /** All payloads received so far for `event`. */
  all(event: string): any[] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload);
  }

  /** The first payload of `event` (after `skip` matches) satisfying `match`, waiting up to `timeoutMs`. */
  async next(event: string, match: (p: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.violations.length > 0) throw new Error(this.violations.join("\n"));
      const hit = this.events.find((e) => e.event === event && match(e.payload));
      if (hit) return hit.payload;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${event}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asserts that no `event` matching arrives within `ms`. */
  async none(event: string, match: (p: any) => boolean = () => true, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.events.find((e) => e.event === event && match(e.payload));
    if (hit) throw new Error(`unexpected ${event}: ${JSON.stringify(hit.payload)}`);
  }

  close(): void {
    this.socket.disconnect();
  }
}

export async function vetClient(url: string, token: string, available = true): Promise<TestClient> {
  const c = await new TestClient(url, "/vet", token).ready();
  if (available) {
    const r = await c.ask("presence:set", { status: "available" });
    if (!r.success) throw new Error(`presence:set failed: ${JSON.stringify(r)}`);
  }
  return c;
}

export function userClient(url: string, token: string): Promise<TestClient> {
  return new TestClient(url, "/user", token).ready();
}
