/** Helpers for the v2 REST tests: an app with its client, multipart uploads and image bytes. */
import http from "node:http";
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { basicAuth, request, type TestGateway } from "./gateway.js";
import { checkRestResponse } from "./reference-validator.js";

export interface AppClient {
  app: { id: number; name: string; mediaUrl: string | null };
  secret: string;
  auth: string;
  /** `/api/v2/{name}` on the gateway. */
  base: string;
  /** A request to `/api/v2/{name}{path}` with this app's Basic credentials. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): ReturnType<typeof request>;
}

/** Creates an app (unique name) and a client authenticated as it. */
export async function createAppClient(
  gw: TestGateway,
  opts: { name?: string; mediaUrl?: string } = {},
): Promise<AppClient> {
  const name = opts.name ?? `app-${randomBytes(4).toString("hex")}`;
  const secret = `secret-${randomBytes(12).toString("hex")}`;
  const app = await gw.gateway.ctx.repos.apps.create({ name, secret, mediaUrl: opts.mediaUrl ?? null });
  const auth = basicAuth(name, secret);
  return {
    app,
    secret,
    auth,
    base: `/api/v2/${name}`,
    call: (method, path, body, headers = {}) =>
      request(gw.url, method, `/api/v2/${name}${path}`, {
        ...(body !== undefined ? { body } : {}),
        headers: { authorization: auth, ...headers },
      }),
  };
}

let seq = 0;
/** A unique email. */
export function email(label = "user"): string {
  seq += 1;
  return `${label}.${String(seq)}.${randomBytes(3).toString("hex")}@example.com`;
}

/** Registers a user and returns the response `data`. */
export async function registerUser(c: AppClient, body: Record<string, unknown> = {}): Promise<any> {
  const res = await c.call("POST", "/register-user", { first_name: "Ann", email: email(), role: "users", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** Asserts the error envelope of PROTOCOL §2. */
export function expectError(res: { status: number; body: any }, status: number, firstMessage?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ success: false, status_code: status, data: [] });
  expect(Array.isArray(res.body.message)).toBe(true);
  if (firstMessage !== undefined) expect(res.body.message[0]).toBe(firstMessage);
}

/** A 1×1 PNG. */
export const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
/** The start of a JFIF JPEG (enough for content sniffing). */
export const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from("JFIF\0"),
  Buffer.alloc(64),
]);
/** A RIFF/WEBP header (enough for content sniffing). */
export const WEBP = Buffer.concat([
  Buffer.from("RIFF"),
  Buffer.from([0x24, 0, 0, 0]),
  Buffer.from("WEBPVP8 "),
  Buffer.alloc(64),
]);

/** POSTs `multipart/form-data`; `file` goes in the field `profile` unless `fileField` says otherwise. */
export async function postMultipart(
  gw: TestGateway,
  c: AppClient,
  path: string,
  fields: Record<string, string>,
  file?: { data: Buffer; name: string; type: string; field?: string },
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append(file.field ?? "profile", new Blob([file.data], { type: file.type }), file.name);
  const res = await fetch(`${gw.url}${c.base}${path}`, {
    method: "POST",
    headers: { authorization: c.auth, accept: "application/json" },
    body: form,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep text */
  }
  checkRestResponse("POST", `${c.base}${path}`, res.status, res.headers.get("content-type"), body);
  return { status: res.status, body };
}

/** A raw HTTP request (fetch refuses a body on GET, which the reference's refresh example sends). */
export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        headers: { ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* keep text */
          }
          checkRestResponse(
            method,
            new URL(url).pathname,
            res.statusCode ?? 0,
            res.headers["content-type"] ?? null,
            parsed,
          );
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
