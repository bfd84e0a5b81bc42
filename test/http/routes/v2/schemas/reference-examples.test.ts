/**
 * Every example request of the reference docs (v2-rest-api.txt), sent exactly as written to
 * the endpoint it documents with valid credentials. The examples are generated junk: each
 * must get a clean 4xx envelope, never a 5xx. Also a small sweep of hostile values over the
 * fields of every endpoint of this router.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestGateway, type TestGateway } from "../../../../support/gateway.js";
import { createAppClient, expectError, rawRequest, registerUser, type AppClient } from "../../../../support/v2.js";

let gw: TestGateway;
let a: AppClient;

beforeAll(async () => {
  // The hostile-value sweep sends thousands of requests: lift the per-minute limit.
  gw = await startTestGateway({ db: "pglite", env: { RATE_LIMIT_PER_MIN: "100000" } });
  a = await createAppClient(gw);
});
afterAll(async () => {
  await gw?.close();
});

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

/** [endpoint, method, query, body exactly as the reference's `--data`]. */
const examples: Array<[string, "GET" | "POST", string, string | undefined]> = [
  [
    "pet/add",
    "POST",
    "",
    String.raw`{
"name": "sed",
"age": "reiciendis",
"sex": "nulla"
}`,
  ],
  [
    "pet/update",
    "POST",
    "",
    String.raw`{
"email": "nolan.jeffrey@example.com",
"pet_id": 3,
"pet": {
"name": "voluptatum",
"color": "eum",
"sex": "provident",
"sex_type": "corrupti",
"species": "quaerat",
"weight": 11
}
}`,
  ],
  [
    "pet/remove",
    "POST",
    "",
    String.raw`{
"email": "glittel@example.net",
"pet_id": 17
}`,
  ],
  ["pet/list", "GET", "?search_value=aut&search_by=in&page=5&pagination=1&perPage=8", undefined],
  [
    "report/webappuser/profile",
    "POST",
    "",
    String.raw`{
"date_from": "magnam",
"date_to": "reprehenderit",
"search_value": "consectetur",
"pagination": "dolores",
"page": "et",
"perPage": "molestiae",
"status": "delectus",
"selectedProtect": "fugit"
}`,
  ],
  [
    "register-user",
    "POST",
    "",
    String.raw`{
"first_name": "esse",
"email": "mcdermott.winifred@example.com",
"role": "protect_users",
"dev_type": "quo"
}`,
  ],
  [
    "talk-to-vet",
    "POST",
    "",
    String.raw`{
"email": "alverta.schaefer@example.org",
"conversation_request": "video",
"pet_id": 9
}`,
  ],
  [
    "refresh",
    "GET",
    "",
    String.raw`{
"identity": "voluptate",
"dev_type": "omnis"
}`,
  ],
  [
    "end",
    "POST",
    "",
    String.raw`{
"channel_sid": "laboriosam"
}`,
  ],
  [
    "feedback",
    "POST",
    "",
    String.raw`{
"type": "video"
}`,
  ],
  [
    "actions",
    "POST",
    "",
    String.raw`{
"email": "voluptates",
"first_name": "h:;<>,\/|]]$\/u",
"last_name": "M:;<>,s\/|]]]]]]$\/u",
"status": "rerum",
"emergency_fund": 6
}`,
  ],
  [
    "delete-user",
    "POST",
    "",
    String.raw`{
"email": "example@gmail.com",
"app_id": 21
}`,
  ],
  [
    "video-call-action",
    "POST",
    "",
    String.raw`{
"status": "declined",
"room_sid": "similique"
}`,
  ],
];

describe("the reference's example requests", () => {
  it.each(examples)("%s answers a 4xx envelope", async (endpoint, method, query, body) => {
    const res = await rawRequest(
      `${gw.url}${a.base}/${endpoint}${query}`,
      method,
      { ...JSON_HEADERS, authorization: a.auth },
      body,
    );
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).toMatchObject({ success: false, status_code: res.status, data: [] });
    expect(res.body.message.length).toBeGreaterThan(0);
  });

  it("the media-url example (app `id`, which does not exist) is 404 App Not Found", async () => {
    expectError(await request(gw.url, "GET", "/api/v2/id/media-url", { headers: JSON_HEADERS }), 404, "App Not Found");
  });

  it("answers as specified for the examples of this router", async () => {
    const send = async (endpoint: string, query = "") => {
      const ex = examples.find((e) => e[0] === endpoint)!;
      return rawRequest(
        `${gw.url}${a.base}/${endpoint}${query || ex[2]}`,
        ex[1],
        { ...JSON_HEADERS, authorization: a.auth },
        ex[3],
      );
    };
    expect((await send("pet/add")).body.message).toEqual([
      "The email field is required.",
      "The age must read N year(s), N year(s) M month(s) or M month(s).",
    ]);
    expectError(await send("pet/update"), 404, "User not found");
    expectError(await send("pet/remove"), 404, "User not found");
    expect((await send("pet/list")).body.message).toEqual([
      "The email field is required.",
      "The selected search by is invalid.",
    ]);
    // Every field but the (valid) search_value.
    expect((await send("report/webappuser/profile")).body.message).toHaveLength(7);
    expect((await send("register-user")).body.message).toEqual([
      "The selected dev type is invalid.",
      "The emergency fund field is required when role is protect_users.",
    ]);
    expect((await send("refresh")).body.message).toEqual(["The selected dev type is invalid."]);
    expect((await send("actions")).body.message).toEqual([
      "The email must be a valid email address.",
      "The selected status is invalid.",
    ]);
    expectError(await send("delete-user"), a.app.id === 21 ? 404 : 422);
  });

  it("the same examples hit real data cleanly once the user exists", async () => {
    await registerUser(a, { email: "nolan.jeffrey@example.com", pet: { name: "first" } });
    await registerUser(a, { email: "glittel@example.net" });
    const update = await rawRequest(
      `${gw.url}${a.base}/pet/update`,
      "POST",
      { ...JSON_HEADERS, authorization: a.auth },
      examples[1][3],
    );
    // pet 3 is not this user's (or does not exist).
    expectError(update, 404, "Pet not found");
    expectError(
      await rawRequest(
        `${gw.url}${a.base}/pet/remove`,
        "POST",
        { ...JSON_HEADERS, authorization: a.auth },
        examples[2][3],
      ),
      404,
      "Pet not found",
    );
  });
});

describe("hostile values never cause a 5xx", () => {
  let user: any;
  beforeAll(async () => {
    user = (await registerUser(a, { pet: { name: "fuzz" } })).user;
  });

  const junk: unknown[] = [
    null,
    true,
    0,
    -1,
    1.5,
    1e300,
    "",
    " ",
    "x".repeat(300),
    [],
    [1],
    {},
    { a: 1 },
    "9".repeat(30),
    "1e3",
    "\u0000",
    "<script>",
  ];

  it.each([
    ["register-user", { first_name: "F", email: "fuzz@example.com", role: "users", pet: { name: "p" } }],
    ["pet/add", { email: "EMAIL", name: "p", age: "1 year", weight: "1 lbs" }],
    ["pet/update", { email: "EMAIL", pet_id: "PET", pet: { name: "p" } }],
    ["pet/remove", { email: "EMAIL", pet_id: 2147483647 }],
    ["report/webappuser/profile", { date_from: "2024-01-01", pagination: 1 }],
    ["actions", { email: "EMAIL", status: "subscribed" }],
    ["socket-token", { email: "EMAIL" }],
    ["delete-user", { email: "nobody@example.com", app_id: 1 }],
  ] as const)("POST %s", async (endpoint, valid) => {
    const base: Record<string, unknown> = JSON.parse(
      JSON.stringify(valid).replace("EMAIL", user.email).replace('"PET"', String(user.pets.id)),
    );
    const fields = Object.keys(base);
    for (const field of fields) {
      for (const value of junk) {
        const body = { ...base, [field]: value };
        const res = await a.call("POST", `/${endpoint}`, body);
        expect(res.status, `${endpoint} ${field}=${JSON.stringify(value)}: ${JSON.stringify(res.body)}`).toBeLessThan(
          500,
        );
        expect(res.body.success, `${endpoint} ${field}`).toBe(res.status === 200);
      }
    }
  });

  it("GET pet/list and refresh", async () => {
    for (const value of ["", "x".repeat(300), "%", "-1", "1e3", "9".repeat(30), "\u0000"]) {
      for (const field of ["email", "search_value", "search_by", "page", "pagination", "perPage"]) {
        const q = new URLSearchParams({ email: user.email, [field]: value });
        const res = await a.call("GET", `/pet/list?${q.toString()}`);
        expect(res.status, `${field}=${value}`).toBeLessThan(500);
      }
      const res = await a.call("GET", `/refresh?identity=${encodeURIComponent(value)}`);
      expect(res.status).toBeLessThan(500);
    }
    // Beyond 2^53: not an identity we could have made.
    expect((await a.call("GET", `/refresh?identity=local-app-${a.app.id}_user-${"9".repeat(16)}`)).status).toBe(422);
    // Beyond the integer column: no such user (not a database error).
    expect((await a.call("GET", `/refresh?identity=local-app-${a.app.id}_user-9999999999`)).status).toBe(404);
  });
});
