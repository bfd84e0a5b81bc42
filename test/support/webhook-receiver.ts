/**
 * A partner's webhook receiver on 127.0.0.1 for tests: records every request (headers and
 * raw body) and answers as the test says (ok, fail a few times, down, slow, redirect).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedHook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: {
    type: string;
    timestamp: string;
    data: { consultation: Record<string, any>; feedback?: Record<string, any> };
  };
  at: number;
}

/** How the receiver answers the next request: a status, or hold it `delayMs` first. */
export type Answer = { status: number; delayMs?: number; location?: string };

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** Answers of the next requests, in order; when empty, `fallback`. */
  script: Answer[];
  fallback: Answer;
  /** Resolves once `n` requests arrived (of `type`, when given). */
  waitFor(n: number, type?: string, timeoutMs?: number): Promise<ReceivedHook[]>;
  /** Verifies every request with the Standard Webhooks verifier; throws on the first bad one. */
  verifyAll(secret: string): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const waiters: Array<() => void> = [];
  const state = { script: [] as Answer[], fallback: { status: 204 } as Answer };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({
        id: String(req.headers["webhook-id"]),
        timestamp: String(req.headers["webhook-timestamp"]),
        signature: String(req.headers["webhook-signature"]),
        body,
        json: JSON.parse(body) as ReceivedHook["json"],
        at: Date.now(),
      });
      for (const w of waiters.splice(0)) w();
      const answer = state.script.shift() ?? state.fallback;
      const reply = () => {
        res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
        res.end(answer.status >= 400 ? "receiver says no" : "");
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hooks`;
  return {
    url,
    received,
    get script() {
      return state.script;
    },
    set script(s: Answer[]) {
      state.script = s;
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(a: Answer) {
      state.fallback = a;
    },
    async waitFor(n, type, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      const matching = () => received.filter((r) => type === undefined || r.json.type === type);
      while (matching().length < n) {
        if (Date.now() > deadline)
          throw new Error(
            `waited for ${String(n)} webhooks${type ? ` of ${type}` : ""}, got ${String(matching().length)}: ${received.map((r) => r.json.type).join(", ")}`,
          );
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return matching();
    },
    verifyAll(secret) {
      const wh = new Webhook(secret);
      for (const r of received)
        wh.verify(r.body, { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
