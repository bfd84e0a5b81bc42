/**
 * Test actors over real sockets: apps, owners with pets, vets, and clients that buffer every
 * event so a test never misses one emitted before it started waiting. {@link vetActor} and
 * {@link ownerActor} drive the gateway through the client SDK (`src/client`); the raw
 * {@link TestClient} stays for tests that need the wire: whole envelopes, bad payloads,
 * events without a callback, fuzzing. Both check every event (and every ack) against
 * `/asyncapi.json`.
 */
import { io as connect, type Socket } from "socket.io-client";
import {
  createOwnerClient,
  createVetClient,
  type BaseClient,
  type OwnerClient,
  type VetClient,
} from "../../src/client/index.js";
import { userServerEvents, vetServerEvents } from "../../src/protocol/events.js";
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
    {
      email: `owner-${label}@example.com`,
      firstName: `Owner${label}`,
      lastName: "Test",
      role: "users",
      emergencyFund: 0,
    },
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
  const { token } = await gw.ctx.socketTokens.issueVetLogin(vet);
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
      if (left <= 0)
        throw new Error(`timed out waiting for ${event}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
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

/** Every event of the namespace, recorded from an SDK client and checked against `/asyncapi.json`. */
class EventLog {
  readonly events: Array<{ event: string; payload: any }> = [];
  readonly violations: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(client: BaseClient<any>, ns: "user" | "vet") {
    const names = Object.keys(ns === "vet" ? vetServerEvents : userServerEvents);
    for (const event of names) {
      client.on(event, (payload: unknown) => {
        const violation = socketEventViolation(ns, event, payload);
        if (violation) this.violations.push(violation);
        this.events.push({ event, payload });
        for (const w of this.waiters.splice(0)) w();
      });
    }
  }

  all(event: string): any[] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload);
  }

  /** Asserts that no `event` matching arrives within `ms`. */
  async none(event: string, match: (p: any) => boolean = () => true, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.events.find((e) => e.event === event && match(e.payload));
    if (hit) throw new Error(`unexpected ${event}: ${JSON.stringify(hit.payload)}`);
  }

  async next(event: string, match: (p: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.violations.length > 0) throw new Error(this.violations.join("\n"));
      const hit = this.events.find((e) => e.event === event && match(e.payload));
      if (hit) return hit.payload;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${event}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** Resolves once the SDK client is connected; rejects when it ends up unauthorized or disconnected. */
function connected(client: BaseClient<any>, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not connected within ${timeoutMs} ms (${client.status})`)), timeoutMs);
    const check = () => {
      if (client.status === "connected" || client.status === "unauthorized" || client.status === "disconnected") {
        clearTimeout(t);
        off();
        if (client.status === "connected") resolve();
        else reject(new Error(client.status));
      }
    };
    const off = client.onStatus(check);
    check();
  });
}

/**
 * The SDK hands back an ack's `data` (or throws GatewayError): its shape is checked against
 * the documented acknowledgement in its success envelope (the envelope itself is checked by
 * the wire-level TestClient tests).
 */
async function checked<T>(ns: "user" | "vet", event: string, call: Promise<T>): Promise<T> {
  const data = await call;
  checkSocketAck(ns, event, {
    success: true,
    status_code: 200,
    message: ["OK"],
    data: data === undefined ? true : data,
  });
  return data;
}

/** A vet console on the SDK: `sdk` is the typed client; every call and event is checked against the reference. */
export class VetActor extends EventLog {
  constructor(readonly sdk: VetClient) {
    super(sdk, "vet");
  }
  setAvailability(status: "available" | "away") {
    return checked("vet", "presence:set", this.sdk.setAvailability(status));
  }
  accept(id: string) {
    return checked("vet", "consult:accept", this.sdk.accept(id));
  }
  decline(id: string) {
    return checked("vet", "consult:decline", this.sdk.decline(id));
  }
  end(id: string) {
    return checked("vet", "consult:end", this.sdk.end(id));
  }
  sendFeedback(id: string, recommendation: string, reason: string, outcome = "resolved") {
    return checked("vet", "consult:feedback", this.sdk.sendFeedback(id, recommendation, reason, outcome));
  }
  startCall(id: string) {
    return checked("vet", "call:start", this.sdk.startCall(id));
  }
  sendChat(id: string, text: string) {
    return checked("vet", "chat:send", this.sdk.sendChat(id, text));
  }
  refreshTwilioToken() {
    return checked("vet", "token:refresh", this.sdk.refreshTwilioToken());
  }
  transfer(id: string, to: Parameters<VetClient["transfer"]>[1], opts?: Parameters<VetClient["transfer"]>[2]) {
    return checked("vet", "consult:transfer", this.sdk.transfer(id, to, opts));
  }
  cancelTransfer(id: string) {
    return checked("vet", "consult:transfer_cancel", this.sdk.cancelTransfer(id));
  }
  leave(id: string) {
    return checked("vet", "consult:leave", this.sdk.leave(id));
  }
  close(): void {
    this.sdk.close();
  }
}

/** A pet owner's app on the SDK. */
export class OwnerActor extends EventLog {
  constructor(readonly sdk: OwnerClient) {
    super(sdk, "user");
  }
  request(input: Parameters<OwnerClient["request"]>[0]) {
    return checked("user", "consult:request", this.sdk.request(input));
  }
  cancel(id: string) {
    return checked("user", "consult:cancel", this.sdk.cancel(id));
  }
  end(id: string) {
    return checked("user", "consult:end", this.sdk.end(id));
  }
  callStatus(roomSid: string, status: "notanswered" | "declined" | "accepted") {
    return checked("user", "call:status", this.sdk.callStatus(roomSid, status));
  }
  sendChat(id: string, text: string) {
    return checked("user", "chat:send", this.sdk.sendChat(id, text));
  }
  refreshTwilioToken() {
    return checked("user", "token:refresh", this.sdk.refreshTwilioToken());
  }
  close(): void {
    this.sdk.close();
  }
}

const fixedToken = (token: string) => () =>
  Promise.resolve({ token, expires_at: new Date(Date.now() + 3_600_000).toISOString() });

/** A vet connected through the SDK (`createVetClient`), available unless `available` is false. */
export async function vetActor(url: string, token: string, available = true): Promise<VetActor> {
  const a = new VetActor(createVetClient({ url, getToken: fixedToken(token), transports: ["websocket"] }));
  await connected(a.sdk);
  if (available) await a.setAvailability("available");
  return a;
}

/** An owner connected through the SDK (`createOwnerClient`). */
export async function ownerActor(url: string, token: string): Promise<OwnerActor> {
  const a = new OwnerActor(createOwnerClient({ url, getToken: fixedToken(token), transports: ["websocket"] }));
  await connected(a.sdk);
  return a;
}
