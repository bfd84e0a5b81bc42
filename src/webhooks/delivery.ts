/**
 * One webhook delivery attempt over HTTP(S): a signed POST that counts as delivered on any
 * 2xx within the deadline (PROTOCOL §9). Redirects are not followed, at most a few KiB of the
 * answer are read, and the connection goes only where the target policy allows: private,
 * loopback, link-local and reserved addresses are refused (unless allowed) on the address
 * actually connected to, after DNS, so a name that resolves elsewhere later (DNS rebinding)
 * gains nothing (`request-filtering-agent`).
 */
import http from "node:http";
import https from "node:https";
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from "request-filtering-agent";

/** Where and how deliveries may go. */
export interface DeliveryPolicy {
  /** Connect to private, loopback and link-local addresses (development, tests, or `WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** Refuse plain `http` targets (production). */
  httpsOnly: boolean;
  /** The whole attempt's deadline. Default 10 s. */
  timeoutMs?: number;
  /** Most bytes of the answer read (kept as the error snippet). Default 4 KiB. */
  maxResponseBytes?: number;
}

/** What one attempt came to. */
export interface DeliveryResult {
  ok: boolean;
  /** The HTTP status, when an answer came. */
  status: number | null;
  /** Why it failed (short, for the delivery log), or null. */
  error: string | null;
  /** How long the attempt took. */
  ms: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 4096;

/** Sends deliveries under one policy over kept-alive connections. */
export interface Deliverer {
  /** POSTs `body` (JSON text) with `headers` to `url`. Never throws. */
  deliver(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** A {@link Deliverer} for `policy`. */
export function createDeliverer(policy: DeliveryPolicy): Deliverer {
  const filter = { allowPrivateIPAddress: policy.allowPrivate, keepAlive: true, maxSockets: 50 };
  const agents = { http: new RequestFilteringHttpAgent(filter), https: new RequestFilteringHttpsAgent(filter) };
  return {
    deliver: (url, body, headers) => deliverOnce(url, body, headers, policy, agents),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function deliverOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  policy: DeliveryPolicy,
  agents: { http: http.Agent; https: https.Agent },
): Promise<DeliveryResult> {
  const started = performance.now();
  const done = (status: number | null, error: string | null): DeliveryResult => ({
    ok: error === null && status !== null && status >= 200 && status < 300,
    status,
    error,
    ms: performance.now() - started,
  });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(done(null, "invalid url"));
  }
  if (target.protocol !== "https:" && target.protocol !== "http:")
    return Promise.resolve(done(null, "url must be http or https"));
  if (policy.httpsOnly && target.protocol !== "https:") return Promise.resolve(done(null, "url must use https"));

  const timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(done(status, error));
    };
    const req = send(target, {
      method: "POST",
      agent: target.protocol === "https:" ? agents.https : agents.http,
      headers: {
        ...headers,
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "vet-consultation-gateway-webhooks",
      },
    });
    // One deadline for connect, send and answer alike.
    const deadline = setTimeout(() => {
      req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    req.on("response", (res) => {
      const status = res.statusCode ?? null;
      let read = 0;
      let snippet = "";
      res.on("data", (chunk: Buffer) => {
        if (read < maxBytes) snippet += chunk.subarray(0, maxBytes - read).toString("utf8");
        read += chunk.length;
        // Enough read: the rest of a large answer is not worth the bandwidth.
        if (read >= maxBytes) res.destroy();
      });
      const end = () => {
        if (status !== null && status >= 200 && status < 300) return finish(status, null);
        const kind =
          status !== null && status >= 300 && status < 400 ? "redirect not followed" : `HTTP ${String(status)}`;
        finish(status, `${kind}${snippet ? `: ${snippet.slice(0, 200)}` : ""}`);
      };
      res.on("end", end);
      res.on("close", end);
      res.on("error", end);
    });
    req.on("error", (err) => finish(null, err.message.slice(0, 300)));
    req.end(body);
  });
}
