/** register-user, actions, delete-user, refresh, socket-token over real HTTP on PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../src/lib/clock.js";
import { parseIdentity } from "../../../../src/twilio/identity.js";
import { startTestGateway, type TestGateway } from "../../../support/gateway.js";
import { createAppClient, email, expectError, rawRequest, registerUser, type AppClient } from "../../../support/v2.js";

const DAY = 86_400_000;
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));

let gw: TestGateway;
let a: AppClient;
let b: AppClient;
const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 15, 2));

beforeAll(async () => {
  gw = await startTestGateway({ clock });
  a = await createAppClient(gw);
  b = await createAppClient(gw);
});
afterAll(async () => {
  await gw?.close();
});

describe("POST register-user", () => {
  it("registers a protected user with a pet, in the reference's shape", async () => {
    const mail = email("Reg");
    const res = await a.call("POST", "/register-user", {
      first_name: "New",
      last_name: "umbrella",
      email: mail,
      role: "protect_users",
      emergency_fund: 3000,
      dev_type: "android",
      phone_no: "",
      pet: { name: "TestDog", species: "cat", age: "2 years 3 months", weight: 12, sex: "Male", sex_type: "spayed" },
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.status_code).toBe(200);
    expect(res.body.message).toEqual(["User registered successfully."]);
    const { user, twilioToken, emergency_stats, socket_token } = res.body.data;
    expect(Object.keys(user)).toEqual([
      "app_id",
      "email",
      "dev_type",
      "last_name",
      "first_name",
      "phone_no",
      "your_registration_date",
      "emergency_fund",
      "updated_at",
      "created_at",
      "id",
      "role",
      "status",
      "trial_period",
      "can_use_emergency_funds",
      "app",
      "activedays",
      "pets",
      "user_status",
      "region",
    ]);
    expect(user).toMatchObject({
      app_id: a.app.id,
      email: mail,
      dev_type: "android",
      last_name: "umbrella",
      first_name: "New",
      phone_no: null,
      your_registration_date: "2026-01-01 09:15:02",
      emergency_fund: 3000,
      role: "protect_users",
      status: "subscribed",
      trial_period: 14,
      can_use_emergency_funds: false,
      app: [a.app.name],
      activedays: 0,
    });
    expect(user.pets).toMatchObject({
      user_id: user.id,
      app_id: a.app.id,
      pet_id: null,
      name: "TestDog",
      age: "2 years 3 months",
      weight: "12 lbs",
      profile: null,
      deleted_at: null,
      veterians: null,
      medicals: null,
      insurnaces: null,
      pet_veterians: [],
      pet_medicals: [],
      pet_insurnaces: [],
    });
    expect(user.user_status).toEqual([
      {
        id: expect.any(Number),
        user_id: user.id,
        app_id: a.app.id,
        status: "subscribed",
        type: "monthly",
        created_at: "2026-01-01 09:15:02",
        updated_at: "2026-01-01 09:15:02",
        date_time: "2026-01-01 09:15:02",
      },
    ]);
    expect(emergency_stats).toEqual({
      user_type: "protect_users",
      trial_period_count: 14,
      trial_period_start_date: "2026-01-01 09:15:02",
      trial_period_end_date: "2026-01-15 09:15:02",
      remaining_trial_period_days: 14,
      last_emergency_activation_date: null,
      next_emergency_activation_date: null,
      emergency_fund: 3000,
      can_activate_Emergency: false,
    });
    expect(decode(twilioToken).grants.identity).toBe(`local-app-${a.app.id}_user-${user.id}`);
    expect(socket_token).toEqual({ token: expect.any(String), expires_at: expect.any(String) });
    expect(await gw.gateway.ctx.socketTokens.verify(socket_token.token, "user")).toEqual({
      kind: "user",
      appId: a.app.id,
      userId: user.id,
    });
  });

  it("a plain user needs no fund, has pets null and fund 0", async () => {
    const data = await registerUser(a, { role: "users", emergency_fund: 500 });
    expect(data.user.pets).toBeNull();
    expect(data.user.emergency_fund).toBe(0);
    expect(data.emergency_stats.user_type).toBe("users");
  });

  it("409 for an active email, case-insensitively; 200 again after deletion", async () => {
    const mail = email("Dup");
    await registerUser(a, { email: mail });
    expectError(
      await a.call("POST", "/register-user", { first_name: "X", email: mail.toUpperCase(), role: "users" }),
      409,
      "The email has already been taken.",
    );
    // Another app may register the same email.
    await registerUser(b, { email: mail });
    expect((await a.call("POST", "/delete-user", { email: mail, app_id: a.app.id })).status).toBe(200);
    await registerUser(a, { email: mail });
  });

  it("concurrent registrations of one email: one 200, the rest 409", async () => {
    const mail = email("race");
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        a.call("POST", "/register-user", { first_name: "R", email: mail, role: "users" }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409]);
  });

  it("422 with one Laravel message per failed field", async () => {
    const res = await a.call("POST", "/register-user", {});
    expectError(res, 422);
    expect(res.body.message).toEqual([
      "The first name field is required.",
      "The email field is required.",
      "The role field is required.",
    ]);

    const res2 = await a.call("POST", "/register-user", {
      first_name: "x",
      email: "not-an-email",
      role: "protect_users",
      dev_type: "nokia",
      pet: { age: "old", weight: "heavy" },
    });
    expectError(res2, 422);
    expect(res2.body.message).toEqual([
      "The email must be a valid email address.",
      "The selected dev type is invalid.",
      "The pet.name field is required.",
      "The pet.age must read N year(s), N year(s) M month(s) or M month(s).",
      "The pet.weight must read N lbs, e.g. 10 lbs.",
      "The emergency fund field is required when role is protect_users.",
    ]);

    const res3 = await a.call("POST", "/register-user", {
      first_name: "x",
      email: email(),
      role: "admin",
      emergency_fund: -1,
    });
    expect(res3.body.message).toEqual(["The selected role is invalid.", "The emergency fund must be at least 0."]);
    const res4 = await a.call("POST", "/register-user", {
      first_name: "x",
      email: email(),
      role: "protect_users",
      emergency_fund: 1.5,
    });
    expect(res4.body.message).toEqual(["The emergency fund must be an integer."]);
    const res5 = await a.call("POST", "/register-user", {
      first_name: "x",
      email: email(),
      role: "protect_users",
      emergency_fund: 99999999999,
    });
    expect(res5.body.message).toEqual(["The emergency fund must not be greater than 2147483647."]);
    expectError(await a.call("POST", "/register-user", [1, 2]), 422, "The payload must be an object.");
  });
});

describe("POST actions", () => {
  const statusRows = async (c: AppClient, userId: number) => gw.gateway.ctx.repos.users.statuses(c.app.id, userId);

  it("updates names, status and role, appending user_status rows on status changes", async () => {
    const mail = email("act");
    const { user } = await registerUser(a, { email: mail, role: "protect_users", emergency_fund: 100 });
    const res = await a.call("POST", "/actions", {
      email: mail,
      first_name: "Changed",
      last_name: "Name",
      status: "subscribed",
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, status_code: 200, message: ["End chat successful"], data: true });
    expect(await statusRows(a, user.id)).toHaveLength(1);

    // protect_users → users while subscribed: refused, nothing changes.
    const refused = await a.call("POST", "/actions", { email: mail, role: "users" });
    expectError(refused, 422, "The role cannot change from protect_users to users unless the user is cancelled.");
    expect((await gw.gateway.ctx.repos.users.findById(a.app.id, user.id))?.role).toBe("protect_users");

    // Cancelled and downgraded in one call.
    expect((await a.call("POST", "/actions", { email: mail, role: "users", status: "cancelled" })).status).toBe(200);
    const after = await gw.gateway.ctx.repos.users.findById(a.app.id, user.id);
    expect(after).toMatchObject({
      firstName: "Changed",
      lastName: "Name",
      role: "users",
      status: "cancelled",
      emergencyFund: 0,
    });
    const rows = await statusRows(a, user.id);
    expect(rows.map((r) => r.status)).toEqual(["subscribed", "cancelled"]);

    // Re-subscribe: one more row.
    expect((await a.call("POST", "/actions", { email: mail, status: "subscribed" })).status).toBe(200);
    expect((await statusRows(a, user.id)).map((r) => r.status)).toEqual(["subscribed", "cancelled", "subscribed"]);
  });

  it("an earlier cancellation allows the downgrade", async () => {
    const mail = email("act2");
    await registerUser(a, { email: mail, role: "protect_users", emergency_fund: 100 });
    expect((await a.call("POST", "/actions", { email: mail, status: "cancelled" })).status).toBe(200);
    expect((await a.call("POST", "/actions", { email: mail, role: "users" })).status).toBe(200);
  });

  it("upgrading to protect_users needs an emergency fund", async () => {
    const mail = email("act3");
    await registerUser(a, { email: mail });
    expectError(
      await a.call("POST", "/actions", { email: mail, role: "protect_users" }),
      422,
      "The emergency fund field is required when role is protect_users.",
    );
    expect(
      (await a.call("POST", "/actions", { email: mail, role: "protect_users", emergency_fund: "250" })).status,
    ).toBe(200);
    expect((await gw.gateway.ctx.repos.users.findActiveByEmail(a.app.id, mail))?.emergencyFund).toBe(250);
  });

  it("422 per field, 404 for unknown users and other apps' users", async () => {
    const res = await a.call("POST", "/actions", { status: "paused", role: "x", emergency_fund: "lots" });
    expectError(res, 422);
    expect(res.body.message).toEqual([
      "The email field is required.",
      "The selected role is invalid.",
      "The selected status is invalid.",
      "The emergency fund must be an integer.",
    ]);
    expectError(
      await a.call("POST", "/actions", { email: email("nobody"), status: "cancelled" }),
      404,
      "User not found",
    );
    const mail = email("iso");
    await registerUser(a, { email: mail });
    expectError(await b.call("POST", "/actions", { email: mail, status: "cancelled" }), 404, "User not found");
    expect((await gw.gateway.ctx.repos.users.findActiveByEmail(a.app.id, mail))?.status).toBe("subscribed");
  });
});

describe("region (PROTOCOL §4) and POST update-user", () => {
  it("register-user takes an optional region, upper-cased; a code ISO 3166 lacks or a malformed one is 422", async () => {
    const { user } = await registerUser(a, { region: "us-ca" });
    expect(user.region).toBe("US-CA");
    const none = await registerUser(a, { region: "" });
    expect(none.user.region).toBeNull();
    expectError(
      await a.call("POST", "/register-user", { first_name: "A", email: email(), role: "users", region: "US-ZZ" }),
      422,
      "The selected region is invalid.",
    );
    expectError(
      await a.call("POST", "/register-user", { first_name: "A", email: email(), role: "users", region: "California" }),
      422,
      "The region must be an ISO 3166 country or subdivision code, such as GB or US-CA.",
    );
    expectError(
      await a.call("POST", "/register-user", { first_name: "A", email: email(), role: "users", region: 7 }),
      422,
    );
  });

  it('update-user changes only the fields given, clears with "" or null, and answers the user; 404 and 422 as elsewhere', async () => {
    const mail = email("upd");
    const { user } = await registerUser(a, { email: mail, last_name: "Lee", phone_no: "123", region: "GB" });
    const res = await a.call("POST", "/update-user", { email: mail, first_name: "Sam", region: "gb-sct" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: ["User updated successfully."] });
    expect(res.body.data).toMatchObject({
      id: user.id,
      first_name: "Sam",
      last_name: "Lee",
      phone_no: "123",
      region: "GB-SCT",
      pets: null,
      user_status: [{ status: "subscribed" }],
    });
    const cleared = await a.call("POST", "/update-user", { email: mail, region: null, phone_no: "" });
    expect(cleared.body.data).toMatchObject({ first_name: "Sam", phone_no: null, region: null });
    expect(await gw.gateway.ctx.repos.users.findById(a.app.id, user.id)).toMatchObject({
      firstName: "Sam",
      phoneNo: null,
      region: null,
      role: "users",
    });
    // Only an email: nothing changes, the user comes back.
    expect((await a.call("POST", "/update-user", { email: mail })).body.data).toMatchObject({
      first_name: "Sam",
      region: null,
    });

    expectError(
      await a.call("POST", "/update-user", { email: mail, region: "ZZ" }),
      422,
      "The selected region is invalid.",
    );
    // "" is "not given" for a required name, as in actions; too long is refused.
    expect((await a.call("POST", "/update-user", { email: mail, first_name: "" })).body.data).toMatchObject({
      first_name: "Sam",
    });
    expectError(
      await a.call("POST", "/update-user", { email: mail, first_name: "x".repeat(256) }),
      422,
      "The first name must not be greater than 255 characters.",
    );
    expectError(await a.call("POST", "/update-user", { region: "GB" }), 422, "The email field is required.");
    expectError(await a.call("POST", "/update-user", { email: email("nobody") }), 404, "User not found");
    expectError(await b.call("POST", "/update-user", { email: mail, region: "GB" }), 404, "User not found");
    expect((await gw.gateway.ctx.repos.users.findById(a.app.id, user.id))?.region).toBeNull();
  });
});

describe("POST delete-user", () => {
  it("soft-deletes and returns the user as the reference", async () => {
    const mail = email("del");
    const { user } = await registerUser(a, {
      email: mail,
      role: "protect_users",
      emergency_fund: 3000,
      dev_type: "ios",
    });
    clock.advance(2 * DAY);
    const res = await a.call("POST", "/delete-user", { email: mail, app_id: a.app.id });
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual(["User deleted successfully"]);
    const d = res.body.data;
    expect(Object.keys(d)).toEqual([
      "id",
      "app_id",
      "email",
      "dev_type",
      "twilio_user_sid",
      "last_name",
      "first_name",
      "phone_no",
      "emergency_fund",
      "your_registration_date",
      "created_at",
      "updated_at",
      "deleted_at",
      "region",
      "next_emergency_activation_date",
      "app",
      "activedays",
      "user_status_latest",
    ]);
    expect(d).toMatchObject({
      id: user.id,
      app_id: a.app.id,
      email: mail,
      dev_type: "ios",
      app: [a.app.name],
      activedays: 2,
      emergency_fund: 3000,
    });
    expect(d.deleted_at).toBe(d.updated_at);
    expect(d.deleted_at).not.toBeNull();
    expect(d.user_status_latest).toMatchObject({
      user_id: user.id,
      app_id: a.app.id,
      status: "subscribed",
      type: "monthly",
    });
    // Gone: 404 afterwards, and a second delete is 404 too.
    expect(await gw.gateway.ctx.repos.users.findById(a.app.id, user.id)).toBeNull();
    expectError(await a.call("POST", "/delete-user", { email: mail, app_id: a.app.id }), 404, "User not found");
    expectError(await a.call("POST", "/socket-token", { email: mail }), 404, "User not found");
  });

  it("app_id must be this app's id (422), another app's user is not found (404)", async () => {
    const mail = email("del2");
    await registerUser(a, { email: mail });
    expectError(
      await a.call("POST", "/delete-user", { email: mail, app_id: b.app.id }),
      422,
      "The selected app id is invalid.",
    );
    expectError(
      await b.call("POST", "/delete-user", { email: mail, app_id: a.app.id }),
      422,
      "The selected app id is invalid.",
    );
    expectError(await b.call("POST", "/delete-user", { email: mail, app_id: b.app.id }), 404, "User not found");
    expect(await gw.gateway.ctx.repos.users.findActiveByEmail(a.app.id, mail)).not.toBeNull();
    const res = await a.call("POST", "/delete-user", { app_id: "abc" });
    expect(res.body.message).toEqual(["The email field is required.", "The app id must be an integer."]);
  });
});

describe("GET refresh", () => {
  it("mints a token for this app's active user, from the query or a JSON body", async () => {
    const { user } = await registerUser(a);
    const identity = `local-app-${a.app.id}_user-${user.id}`;
    const res = await a.call("GET", `/refresh?identity=${encodeURIComponent(identity)}&dev_type=ios`);
    expect(res.status).toBe(200);
    expect(res.body.message).toEqual(["User token"]);
    expect(decode(res.body.data.twilioToken).grants.identity).toBe(identity);
    expect(parseIdentity(identity)).toMatchObject({ kind: "user", appId: a.app.id, userId: user.id });

    const viaBody = await rawRequest(
      `${gw.url}${a.base}/refresh`,
      "GET",
      { authorization: a.auth, "content-type": "application/json" },
      JSON.stringify({ identity, dev_type: "android" }),
    );
    expect(viaBody.status).toBe(200);
    expect(decode(viaBody.body.data.twilioToken).grants.identity).toBe(identity);
  });

  it("422 for junk, 404 for other apps, other prefixes, vets and deleted users", async () => {
    const { user } = await registerUser(a);
    expectError(await a.call("GET", "/refresh"), 422, "The identity field is required.");
    expectError(await a.call("GET", "/refresh?identity=voluptate"), 422, "The selected identity is invalid.");
    const bad = await a.call("GET", "/refresh?identity=local-app-1_user-1&dev_type=nokia");
    expect(bad.body.message).toEqual(["The selected dev type is invalid."]);
    expectError(await b.call("GET", `/refresh?identity=local-app-${a.app.id}_user-${user.id}`), 404, "User not found");
    expectError(await a.call("GET", `/refresh?identity=prod-app-${a.app.id}_user-${user.id}`), 404, "User not found");
    expectError(await a.call("GET", `/refresh?identity=app-${a.app.id}_vet-1`), 404, "User not found");
    expectError(await a.call("GET", `/refresh?identity=local-app-${a.app.id}_user-999999`), 404, "User not found");
    await a.call("POST", "/delete-user", { email: user.email, app_id: a.app.id });
    expectError(await a.call("GET", `/refresh?identity=local-app-${a.app.id}_user-${user.id}`), 404, "User not found");
  });
});

describe("POST socket-token", () => {
  it("issues a user socket token", async () => {
    const { user } = await registerUser(a);
    const res = await a.call("POST", "/socket-token", { email: user.email.toUpperCase() });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data)).toEqual(["token", "expires_at"]);
    expect(await gw.gateway.ctx.socketTokens.verify(res.body.data.token, "user")).toEqual({
      kind: "user",
      appId: a.app.id,
      userId: user.id,
    });
    expect(await gw.gateway.ctx.socketTokens.verify(res.body.data.token, "vet")).toBeNull();
  });

  it("422 without a valid email, 404 for another app's user", async () => {
    const { user } = await registerUser(a);
    expectError(await a.call("POST", "/socket-token", {}), 422, "The email field is required.");
    expectError(await a.call("POST", "/socket-token", { email: 42 }), 422, "The email must be a valid email address.");
    expectError(await b.call("POST", "/socket-token", { email: user.email }), 404, "User not found");
  });
});
