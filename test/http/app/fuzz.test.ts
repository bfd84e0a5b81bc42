/**
 * Property-based fuzzing of every REST endpoint (PROTOCOL §7): generated junk bodies, query
 * strings and multipart forms, prototype-pollution keys included. Every answer is an
 * envelope and never a 5xx; the gateway still serves a normal request afterwards. Seeded and
 * bounded so the file stays well under a minute.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../../support/gateway.js";
import { createAppClient, registerUser, type AppClient } from "../../support/v2.js";

const SEED = 20261201;
const RUNS = 12;

/** Keys a careless merge would turn into prototype pollution, plus real field names. */
const key = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "email",
    "pet_id",
    "pet",
    "role",
    "status",
    "identity",
    "channel_sid",
    "room_sid",
    "name",
    "secret",
    "password",
  ),
  fc.string({ maxLength: 12 }),
);
const junkValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 5_000 }),
  fc.constant("x".repeat(200_000)),
  fc.integer(),
  fc.double(),
  fc.constant(null),
);
/** A JSON text: an object with hostile keys, any JSON value, or a literal pollution attempt. */
const jsonBody = fc.oneof(
  fc.dictionary(key, junkValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes"},"email":"a@b.co"}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"pet":{"__proto__":{"polluted":"yes"}},"email":{"$ne":1}}',
  ),
  fc.string({ maxLength: 200 }),
);
const queryString = fc.oneof(
  fc.dictionary(key, fc.string({ maxLength: 200 }), { maxKeys: 6 }).map((o) => new URLSearchParams(o).toString()),
  fc.constantFrom(
    "email[]=a&email[]=b",
    "__proto__[polluted]=yes&email=a@b.co",
    "page=-1&perPage=1e99&pagination=2",
    "search_by=constructor",
  ),
  fc.string({ maxLength: 100 }).map(encodeURIComponent),
);

/** [method, path under /api/v2/{name}, may a junk request legitimately succeed?] */
const V2: Array<[string, string, boolean]> = [
  ["GET", "/media-url", true],
  ["POST", "/register-user", false],
  ["POST", "/pet/add", false],
  ["POST", "/pet/update", false],
  ["POST", "/pet/remove", false],
  ["GET", "/pet/list", false],
  ["POST", "/report/webappuser/profile", true], // every filter is optional
  ["POST", "/actions", false],
  ["POST", "/delete-user", false],
  ["POST", "/talk-to-vet", false],
  ["GET", "/refresh", false],
  ["POST", "/end", false],
  ["POST", "/feedback", false],
  ["POST", "/video-call-action", false],
  ["POST", "/socket-token", false],
];

function expectEnvelope(res: { status: number; body: any }, mayPass: boolean, what: string): void {
  expect(res.status, what).toBeLessThan(500);
  expect(res.body, what).toMatchObject({ success: res.status < 400, status_code: res.status });
  expect(Array.isArray(res.body.message), what).toBe(true);
  if (!mayPass) expect(res.status, `${what} → ${JSON.stringify(res.body).slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  if (res.status >= 400) expect(res.body.data).toEqual([]);
}

describe("REST fuzzing", () => {
  let gw: TestGateway;
  let a: AppClient;
  beforeAll(async () => {
    gw = await startTestGateway({ env: { RATE_LIMIT_PER_MIN: "1000000", RATE_LIMIT_UNAUTH_PER_MIN: "1000000" } });
    a = await createAppClient(gw);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const send = (method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) =>
    request(gw.url, method, path, {
      headers: { authorization: a.auth, "content-type": "application/json", ...headers },
      ...(body !== undefined && method !== "GET" ? { raw: body } : {}),
    });

  it("junk JSON bodies and query strings on every v2 endpoint get a 4xx envelope, never a 5xx", async () => {
    for (const [method, path, mayPass] of V2) {
      await fc.assert(
        fc.asyncProperty(jsonBody, queryString, async (body, qs) => {
          const res = await send(method, `${a.base}${path}?${qs}`, body);
          // Junk that is not even JSON is a 400; any answer must be an envelope below 500.
          expectEnvelope(res, mayPass, `${method} ${path}`);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }
  }, 120_000);

  it("junk multipart forms on the upload endpoints get a 4xx envelope", async () => {
    const user = await registerUser(a, { pet: { name: "milo" } });
    const field = fc.tuple(
      fc.oneof(key, fc.constantFrom("pet[name]", "pet[__proto__]", "pet_id", "email")),
      fc.string({ maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/pet/add", "/pet/update"),
        fc.array(field, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 2_000 }),
        fc.constantFrom("profile", "image", "__proto__"),
        fc.boolean(),
        async (path, fields, bytes, fileField, knownEmail) => {
          const form = new FormData();
          if (knownEmail) form.append("email", user.user.email);
          for (const [k, v] of fields) form.append(k, v);
          form.append(fileField, new Blob([bytes], { type: "image/png" }), "x.png");
          const res = await fetch(`${gw.url}${a.base}${path}`, {
            method: "POST",
            headers: { authorization: a.auth },
            body: form,
          });
          const body: unknown = await res.json();
          expectEnvelope({ status: res.status, body }, false, `multipart ${path}`);
        },
      ),
      { seed: SEED, numRuns: RUNS * 3, endOnFailure: true },
    );
  }, 60_000);

  it("junk on the admin, vet-login and unknown routes gets a 4xx envelope", async () => {
    const routes: Array<[string, string, Record<string, string>]> = [
      ["POST", "/admin/v1/apps", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }],
      ["POST", "/admin/v1/vets", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }],
      ["POST", "/vet/v1/login", {}],
      ["POST", "/api/v2/%E2%80%AE/pet/list", {}],
      ["PUT", `${a.base}/pet/add`, {}],
    ];
    for (const [method, path, headers] of routes) {
      await fc.assert(
        fc.asyncProperty(jsonBody, async (body) => {
          expectEnvelope(await send(method, path, body, headers), false, `${method} ${path}`);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }
  }, 60_000);

  it("still serves a normal request afterwards, and nothing polluted Object.prototype", async () => {
    const user = await registerUser(a, { pet: { name: "after" } });
    const list = await a.call("GET", `/pet/list?email=${encodeURIComponent(user.user.email)}`);
    expect(list.status).toBe(200);
    expect(list.body.data.list).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await request(gw.url, "GET", "/healthz")).status).toBe(200);
  });
});
