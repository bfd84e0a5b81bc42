/** report/webappuser/profile: rows as the reference, filters, pagination, tenant isolation. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../src/lib/clock.js";
import { startTestGateway, type TestGateway } from "../../../support/gateway.js";
import { createAppClient, expectError, registerUser, type AppClient } from "../../../support/v2.js";

const DAY = 86_400_000;
const clock = new ManualClock(Date.UTC(2024, 2, 1, 23, 59, 59));
let gw: TestGateway;
let a: AppClient;
let b: AppClient;

beforeAll(async () => {
  gw = await startTestGateway({ clock });
  a = await createAppClient(gw);
  b = await createAppClient(gw);
  // 2024-03-01 23:59:59, 2024-03-02 00:00:00, 2024-03-05 12:00:00 (UTC)
  await registerUser(a, {
    first_name: "Viktoriia",
    last_name: "Obukhova",
    email: "vo+32@petcube.com",
    role: "protect_users",
    emergency_fund: 3000,
    phone_no: "555",
  });
  clock.advance(1000);
  await registerUser(a, { first_name: "Liubomyr", last_name: "Sydor", email: "liubamirrr@gmail.com" });
  clock.set(Date.UTC(2024, 2, 5, 12));
  await registerUser(a, { first_name: "vo", email: "vo+104@petcube.com", role: "protect_users", emergency_fund: 100 });
  await a.call("POST", "/actions", { email: "liubamirrr@gmail.com", status: "cancelled" });
  await registerUser(b, { first_name: "Other", email: "other@petcube.com" });
  // Deleted users are not reported.
  await registerUser(a, { first_name: "Gone", email: "gone@petcube.com" });
  await a.call("POST", "/delete-user", { email: "gone@petcube.com", app_id: a.app.id });
  clock.set(Date.UTC(2024, 5, 23, 12));
});
afterAll(async () => {
  await gw?.close();
});

const report = (body: Record<string, unknown> = {}, c = a) => c.call("POST", "/report/webappuser/profile", body);
const emails = (res: { body: any }) => (res.body.data as Array<{ email: string }>).map((r) => r.email);

describe("POST report/webappuser/profile", () => {
  it("lists the app's active users, newest first, in the reference's row shape", async () => {
    const res = await report();
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual(["Successfully Get User Details."]);
    expect(emails(res)).toEqual(["vo+104@petcube.com", "liubamirrr@gmail.com", "vo+32@petcube.com"]);
    expect(res.body.data[2]).toEqual({
      first_name: "Viktoriia",
      last_name: "Obukhova",
      email: "vo+32@petcube.com",
      phone_no: "555",
      your_registration_date: "2024-03-01 23:59:59",
      emergency_fund: 3000,
      next_emergency_activation_date: null,
      activedays: 113,
      protect_type: "protect_users",
      package_type: "monthly",
      subscription_status: "subscribed",
    });
    expect(res.body.data[1]).toMatchObject({
      protect_type: "users",
      subscription_status: "cancelled",
      emergency_fund: 0,
      phone_no: null,
    });
  });

  it("filters by inclusive UTC registration dates", async () => {
    expect(emails(await report({ date_from: "2024-03-01", date_to: "2024-03-01" }))).toEqual(["vo+32@petcube.com"]);
    expect(emails(await report({ date_from: "2024-03-02" }))).toEqual(["vo+104@petcube.com", "liubamirrr@gmail.com"]);
    expect(emails(await report({ date_to: "2024-03-02" }))).toEqual(["liubamirrr@gmail.com", "vo+32@petcube.com"]);
    expect(emails(await report({ date_from: "2024-03-06" }))).toEqual([]);
  });

  it("filters by search_value (name or email), status and selectedProtect", async () => {
    expect(emails(await report({ search_value: "OBUK" }))).toEqual(["vo+32@petcube.com"]);
    expect(emails(await report({ search_value: "viktoriia obukhova" }))).toEqual(["vo+32@petcube.com"]);
    expect(emails(await report({ search_value: "gmail" }))).toEqual(["liubamirrr@gmail.com"]);
    expect(emails(await report({ search_value: "vo+" }))).toEqual(["vo+104@petcube.com", "vo+32@petcube.com"]);
    expect(emails(await report({ status: "cancelled" }))).toEqual(["liubamirrr@gmail.com"]);
    expect(emails(await report({ selectedProtect: "protect_users" }))).toEqual([
      "vo+104@petcube.com",
      "vo+32@petcube.com",
    ]);
    expect(emails(await report({ selectedProtect: "users", status: "subscribed" }))).toEqual([]);
    // Empty strings mean "no filter", as web forms send them.
    expect(
      emails(
        await report({ date_from: "", date_to: "", search_value: "", status: "", selectedProtect: "", pagination: "" }),
      ),
    ).toHaveLength(3);
  });

  it("paginates with pagination=1: data stays an array, page numbers in headers", async () => {
    const p2 = await report({ pagination: 1, perPage: 2, page: 2 });
    expect(emails(p2)).toEqual(["vo+32@petcube.com"]);
    expect(p2.headers.get("x-pagination-total")).toBe("3");
    expect(p2.headers.get("x-pagination-page")).toBe("2");
    expect(p2.headers.get("x-pagination-per-page")).toBe("2");
    expect(p2.headers.get("x-pagination-last-page")).toBe("2");
    const all = await report({ pagination: "0", perPage: 1 });
    expect(emails(all)).toHaveLength(3);
    expect(all.headers.get("x-pagination-total")).toBeNull();
  });

  it("another app sees only its own users", async () => {
    expect(emails(await report({}, b))).toEqual(["other@petcube.com"]);
    expect(emails(await report({ search_value: "vo+" }, b))).toEqual([]);
  });

  it("422 per invalid filter", async () => {
    const res = await report({
      date_from: "2024-02-30",
      date_to: "yesterday",
      status: "gone",
      selectedProtect: "vip",
      pagination: "maybe",
      page: "x",
      perPage: 0,
    });
    expectError(res, 422);
    expect(res.body.message).toEqual([
      "The date from does not match the format Y-m-d.",
      "The date to does not match the format Y-m-d.",
      "The selected status is invalid.",
      "The selected selected protect is invalid.",
      "The pagination field must be true or false.",
      "The page must be an integer.",
      "The per page must be at least 1.",
    ]);
    expectError(
      await report({ date_from: "2024-03-05", date_to: "2024-03-01" }),
      422,
      "The date to must be a date after or equal to date from.",
    );
    expectError(await report({ date_from: "0024-03-01" }), 422, "The date from does not match the format Y-m-d.");
    expectError(await report({ date_from: "2024-3-1" }), 422, "The date from does not match the format Y-m-d.");
  });

  it("activedays follows the clock", async () => {
    clock.advance(10 * DAY);
    const res = await report({ search_value: "vo+32" });
    expect(res.body.data[0].activedays).toBe(123);
  });
});
