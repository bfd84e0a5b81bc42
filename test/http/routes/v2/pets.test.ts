/** pet/add, pet/update (JSON and multipart), pet/remove, pet/list — on PostgreSQL and on PGlite. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../../support/gateway.js";
import {
  createAppClient,
  email,
  expectError,
  JPEG,
  PNG,
  postMultipart,
  registerUser,
  WEBP,
  type AppClient,
} from "../../../support/v2.js";

describe.each(["postgres", "pglite"] as const)("pets on %s", (db) => {
  let gw: TestGateway;
  let a: AppClient;
  let b: AppClient;
  let cdn: AppClient;

  beforeAll(async () => {
    gw = await startTestGateway({ db });
    a = await createAppClient(gw);
    b = await createAppClient(gw);
    cdn = await createAppClient(gw, { mediaUrl: "https://cdn.example.com/pets/" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const mediaFiles = () => readdirSync(gw.gateway.ctx.mediaDir);

  describe("POST pet/add", () => {
    it("adds a pet (flat fields), normalising age and weight", async () => {
      const { user } = await registerUser(a);
      const res = await a.call("POST", "/pet/add", {
        email: user.email,
        name: "milo",
        species: "cat",
        age: "2  Years",
        breed: "horny",
        color: "Brown",
        weight: "111",
        sex: "Female",
        sex_type: "Spayed",
      });
      expect(res.status).toBe(200);
      expect(res.body.message).toEqual(["Pet Added"]);
      expect(res.body.data.email).toBe(user.email);
      const pet = res.body.data.pet;
      expect(Object.keys(pet)).toEqual([
        "id",
        "user_id",
        "app_id",
        "pet_id",
        "name",
        "species",
        "age",
        "breed",
        "color",
        "weight",
        "sex",
        "sex_type",
        "profile",
        "created_at",
        "updated_at",
        "deleted_at",
        "veterians",
        "medicals",
        "insurnaces",
        "pet_veterians",
        "pet_medicals",
        "pet_insurnaces",
      ]);
      expect(pet).toMatchObject({
        user_id: user.id,
        app_id: a.app.id,
        name: "milo",
        age: "2 years",
        weight: "111 lbs",
        profile: null,
        veterians: null,
        insurnaces: null,
        pet_veterians: [],
      });
      expect(pet.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    });

    it("accepts the documented age and weight forms, refuses others", async () => {
      const { user } = await registerUser(a);
      const cases: Array<[unknown, string]> = [
        ["1 year", "1 year"],
        ["3 years 1 month", "3 years 1 month"],
        ["1 years 2 months", "1 year 2 months"],
        ["7 months", "7 months"],
        ["0 years 11 months", "0 years 11 months"],
      ];
      for (const [age, stored] of cases) {
        const res = await a.call("POST", "/pet/add", { email: user.email, name: "p", age });
        expect(res.body.data?.pet.age, String(age)).toBe(stored);
      }
      for (const age of ["reiciendis", "2", "2 years 12 months", "1/1/1970, 5:00:00 AM", "2years 3months x", 2]) {
        expectError(
          await a.call("POST", "/pet/add", { email: user.email, name: "p", age }),
          422,
          "The age must read N year(s), N year(s) M month(s) or M month(s).",
        );
      }
      for (const [weight, stored] of [
        [11, "11 lbs"],
        [10.5, "10.5 lbs"],
        ["10 lbs", "10 lbs"],
        ["10lb", "10 lbs"],
        ["7", "7 lbs"],
      ] as const) {
        const res = await a.call("POST", "/pet/add", { email: user.email, name: "p", weight });
        expect(res.body.data?.pet.weight, String(weight)).toBe(stored);
      }
      for (const weight of ["heavy", "10 kg", -3, true]) {
        expectError(
          await a.call("POST", "/pet/add", { email: user.email, name: "p", weight }),
          422,
          "The weight must read N lbs, e.g. 10 lbs.",
        );
      }
    });

    it("accepts a nested `pet` object and a multipart form with an image", async () => {
      const { user } = await registerUser(a);
      const nested = await a.call("POST", "/pet/add", { email: user.email, pet: { name: "nested", color: "Black" } });
      expect(nested.body.data.pet).toMatchObject({ name: "nested", color: "Black" });
      const form = await postMultipart(
        gw,
        a,
        "/pet/add",
        { email: user.email, "pet[name]": "formpet", "pet[weight]": "9" },
        { data: JPEG, name: "x.jpg", type: "image/jpeg" },
      );
      expect(form.status, JSON.stringify(form.body)).toBe(200);
      expect(form.body.data.pet).toMatchObject({ name: "formpet", weight: "9 lbs" });
      expect(form.body.data.pet.profile).toMatch(new RegExp(`^${gw.url}/media/[0-9a-f]{32}\\.jpg$`));
    });

    it("422 per field and 404 for an unknown user", async () => {
      const res = await a.call("POST", "/pet/add", { sex: 3 });
      expect(res.body.message).toEqual([
        "The email field is required.",
        "The name field is required.",
        "The sex must be a string.",
      ]);
      expectError(await a.call("POST", "/pet/add", { email: email("ghost"), name: "x" }), 404, "User not found");
    });
  });

  describe("POST pet/update", () => {
    it("updates the given fields by JSON", async () => {
      const { user } = await registerUser(a, { pet: { name: "old", color: "Black", age: "1 year" } });
      const res = await a.call("POST", "/pet/update", {
        email: user.email,
        pet_id: user.pets.id,
        pet: { name: "milo", weight: 11, species: "cat" },
      });
      expect(res.status).toBe(200);
      expect(res.body.message).toEqual(["Pet Updated"]);
      expect(res.body.data.pet).toMatchObject({
        id: user.pets.id,
        name: "milo",
        weight: "11 lbs",
        species: "cat",
        color: "Black",
        age: "1 year",
      });
      expect(Object.keys(res.body.data)).toEqual(["pet"]);
    });

    it("stores an uploaded image (PNG, JPEG, WebP by content) and serves it under media-url", async () => {
      const { user } = await registerUser(a, { pet: { name: "pic" } });
      for (const [data, ext] of [
        [PNG, "png"],
        [JPEG, "jpg"],
        [WEBP, "webp"],
      ] as const) {
        // The declared name and type do not matter, the bytes do.
        const res = await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id), "pet[color]": "Grey" },
          { data, name: "upload.bin", type: "application/octet-stream" },
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.data.pet.color).toBe("Grey");
        const profile: string = res.body.data.pet.profile;
        const mediaUrl = (await a.call("GET", "/media-url")).body.data.media_url as string;
        expect(profile.startsWith(`${mediaUrl}/`)).toBe(true);
        expect(profile.endsWith(`.${ext}`)).toBe(true);
        const served = await fetch(profile);
        expect(served.status).toBe(200);
        expect(Buffer.from(await served.arrayBuffer()).equals(data)).toBe(true);
        expect(readFileSync(path.join(gw.gateway.ctx.mediaDir, path.basename(profile))).equals(data)).toBe(true);
      }
    });

    it("a multipart form without a file updates the fields only", async () => {
      const { user } = await registerUser(a, { pet: { name: "plain" } });
      const res = await postMultipart(gw, a, "/pet/update", {
        email: user.email,
        pet_id: String(user.pets.id),
        "pet[name]": "renamed",
        "pet[age]": "4 months",
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.pet).toMatchObject({ name: "renamed", age: "4 months", profile: null });
      const bad = await postMultipart(gw, a, "/pet/update", {
        email: user.email,
        pet_id: "abc",
        "pet[weight]": "lots",
      });
      expect(bad.body.message).toEqual([
        "The pet id must be an integer.",
        "The pet.weight must read N lbs, e.g. 10 lbs.",
      ]);
    });

    it("uses the app's media_url for profile links", async () => {
      const { user } = await registerUser(cdn, { pet: { name: "cdnpet" } });
      const res = await postMultipart(
        gw,
        cdn,
        "/pet/update",
        { email: user.email, pet_id: String(user.pets.id) },
        { data: PNG, name: "a.png", type: "image/png" },
      );
      expect(res.body.data.pet.profile).toMatch(/^https:\/\/cdn\.example\.com\/pets\/[0-9a-f]{32}\.png$/);
    });

    it("413 for an image over 5 MiB, 422 for a non-image disguised as .png or a GIF; nothing stored", async () => {
      const { user } = await registerUser(a, { pet: { name: "big" } });
      const before = mediaFiles().length;
      const big = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024 + 1 - PNG.length)]);
      expectError(
        await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id) },
          { data: big, name: "big.png", type: "image/png" },
        ),
        413,
      );
      const exactly5 = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024 - PNG.length)]);
      expect(
        (
          await postMultipart(
            gw,
            a,
            "/pet/update",
            { email: user.email, pet_id: String(user.pets.id) },
            { data: exactly5, name: "ok.png", type: "image/png" },
          )
        ).status,
      ).toBe(200);
      const afterOk = mediaFiles().length;
      expect(afterOk).toBe(before + 1);
      const text = Buffer.from("#!/bin/sh\necho this is not an image\n");
      expectError(
        await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id) },
          { data: text, name: "evil.png", type: "image/png" },
        ),
        422,
        "The profile must be an image of type: png, jpeg, webp.",
      );
      const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
      expectError(
        await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id) },
          { data: gif, name: "a.gif", type: "image/gif" },
        ),
        422,
      );
      expectError(
        await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id) },
          { data: Buffer.alloc(0), name: "empty.png", type: "image/png" },
        ),
        422,
      );
      // A file under another field name is refused by multer.
      expectError(
        await postMultipart(
          gw,
          a,
          "/pet/update",
          { email: user.email, pet_id: String(user.pets.id) },
          { data: PNG, name: "a.png", type: "image/png", field: "avatar" },
        ),
        422,
      );
      expect(mediaFiles().length).toBe(afterOk);
    });

    it("404 for unknown pets, removed pets, other users' and other apps' pets; 422 per field", async () => {
      const { user } = await registerUser(a, { pet: { name: "mine" } });
      const other = await registerUser(a, { pet: { name: "theirs" } });
      expectError(
        await a.call("POST", "/pet/update", { email: user.email, pet_id: other.user.pets.id, pet: { name: "x" } }),
        404,
        "Pet not found",
      );
      expectError(
        await a.call("POST", "/pet/update", { email: user.email, pet_id: 2147483647, pet: { name: "x" } }),
        404,
        "Pet not found",
      );
      expectError(
        await b.call("POST", "/pet/update", { email: user.email, pet_id: user.pets.id, pet: { name: "x" } }),
        404,
        "User not found",
      );
      await a.call("POST", "/pet/remove", { email: user.email, pet_id: user.pets.id });
      expectError(
        await a.call("POST", "/pet/update", { email: user.email, pet_id: user.pets.id, pet: { name: "x" } }),
        404,
        "Pet not found",
      );
      const bad = await a.call("POST", "/pet/update", {
        email: user.email,
        pet_id: "x",
        pet: { name: "", age: "ancient" },
      });
      expect(bad.body.message).toEqual([
        "The pet id must be an integer.",
        "The pet.name field is required.",
        "The pet.age must read N year(s), N year(s) M month(s) or M month(s).",
      ]);
      expect((await a.call("POST", "/pet/update", { email: user.email, pet_id: 99999999999 })).body.message).toEqual([
        "The pet id must not be greater than 2147483647.",
      ]);
      expect((await a.call("POST", "/pet/update", { email: user.email, pet_id: 1, pet: "milo" })).body.message).toEqual(
        ["The pet must be an object."],
      );
    });
  });

  describe("POST pet/remove", () => {
    it("soft-deletes: data true, then gone from the list and 404", async () => {
      const { user } = await registerUser(a, { pet: { name: "bye" } });
      const res = await a.call("POST", "/pet/remove", { email: user.email, pet_id: user.pets.id });
      expect(res.body).toEqual({
        success: true,
        status_code: 200,
        message: ["Pet data deleted successfully"],
        data: true,
      });
      expect((await a.call("GET", `/pet/list?email=${encodeURIComponent(user.email)}`)).body.data.list).toEqual([]);
      expect(await gw.gateway.ctx.repos.pets.findForUser(a.app.id, user.id, user.pets.id)).toBeNull();
      expectError(
        await a.call("POST", "/pet/remove", { email: user.email, pet_id: user.pets.id }),
        404,
        "Pet not found",
      );
    });

    it("another app cannot remove it", async () => {
      const { user } = await registerUser(a, { pet: { name: "stay" } });
      expectError(
        await b.call("POST", "/pet/remove", { email: user.email, pet_id: user.pets.id }),
        404,
        "User not found",
      );
      const otherApp = await registerUser(b, { email: user.email });
      expectError(
        await b.call("POST", "/pet/remove", { email: otherApp.user.email, pet_id: user.pets.id }),
        404,
        "Pet not found",
      );
      expect(await gw.gateway.ctx.repos.pets.findForUser(a.app.id, user.id, user.pets.id)).not.toBeNull();
    });
  });

  describe("GET pet/list", () => {
    let owner: string;
    beforeAll(async () => {
      const { user } = await registerUser(a);
      owner = encodeURIComponent(user.email);
      const pets = [
        { name: "Milo", species: "cat", breed: "Siamese", color: "Brown" },
        { name: "Rex", species: "dog", breed: "Boxer", color: "Black" },
        { name: "Camilla", species: "dog", breed: "Poodle", color: "White" },
        { name: "100%_pure", species: "bird", breed: "Parrot", color: "Green" },
        { name: "Bella", species: "Cat", breed: "Persian", color: "black" },
      ];
      for (const p of pets) expect((await a.call("POST", "/pet/add", { email: user.email, ...p })).status).toBe(200);
    });
    const names = (res: { body: any }) => (res.body.data.list as Array<{ name: string }>).map((p) => p.name);

    it("lists every live pet in id order", async () => {
      const res = await a.call("GET", `/pet/list?email=${owner}`);
      expect(res.status).toBe(200);
      expect(res.body.message).toEqual(["pet list"]);
      expect(Object.keys(res.body.data)).toEqual(["list"]);
      expect(names(res)).toEqual(["Milo", "Rex", "Camilla", "100%_pure", "Bella"]);
    });

    it("searches case-insensitively as a substring of the chosen field (default name)", async () => {
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=MIL`))).toEqual(["Milo", "Camilla"]);
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=cat&search_by=species`))).toEqual([
        "Milo",
        "Bella",
      ]);
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=oo&search_by=breed`))).toEqual([
        "Camilla",
      ]);
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=BLACK&search_by=color`))).toEqual([
        "Rex",
        "Bella",
      ]);
      // `%` and `_` are literal characters, not wildcards.
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=${encodeURIComponent("%_")}`))).toEqual([
        "100%_pure",
      ]);
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=_`))).toEqual(["100%_pure"]);
      expect(names(await a.call("GET", `/pet/list?email=${owner}&search_value=&search_by=`))).toHaveLength(5);
    });

    it("paginates with pagination=1", async () => {
      const p1 = await a.call("GET", `/pet/list?email=${owner}&pagination=1&perPage=2`);
      expect(names(p1)).toEqual(["Milo", "Rex"]);
      expect(p1.body.data.pagination).toEqual({ total: 5, page: 1, perPage: 2, last_page: 3 });
      const p3 = await a.call("GET", `/pet/list?email=${owner}&pagination=1&perPage=2&page=3`);
      expect(names(p3)).toEqual(["Bella"]);
      expect(p3.body.data.pagination).toEqual({ total: 5, page: 3, perPage: 2, last_page: 3 });
      const beyond = await a.call("GET", `/pet/list?email=${owner}&pagination=1&perPage=2&page=9`);
      expect(names(beyond)).toEqual([]);
      const searched = await a.call("GET", `/pet/list?email=${owner}&pagination=1&search_by=species&search_value=dog`);
      expect(searched.body.data.pagination).toEqual({ total: 2, page: 1, perPage: 10, last_page: 1 });
      // pagination=0 → the whole list, no pagination key.
      expect(Object.keys((await a.call("GET", `/pet/list?email=${owner}&pagination=0&perPage=2`)).body.data)).toEqual([
        "list",
      ]);
    });

    it("422 per query field; another app sees no such user", async () => {
      const res = await a.call("GET", "/pet/list?search_value=aut&search_by=in&page=5&pagination=1&perPage=8");
      expect(res.body.message).toEqual(["The email field is required.", "The selected search by is invalid."]);
      const res2 = await a.call("GET", `/pet/list?email=${owner}&pagination=yes&page=0&perPage=1000`);
      expect(res2.body.message).toEqual([
        "The pagination field must be true or false.",
        "The page must be at least 1.",
        "The per page must not be greater than 100.",
      ]);
      const res3 = await a.call("GET", `/pet/list?email=${owner}&email=${owner}`);
      expectError(res3, 422);
      expectError(await b.call("GET", `/pet/list?email=${owner}`), 404, "User not found");
    });
  });

  it("media files are written only inside the media directory", () => {
    for (const f of mediaFiles()) {
      expect(f).toMatch(/^[0-9a-f]{32}\.(png|jpg|webp)$/);
      expect(existsSync(path.join(gw.gateway.ctx.mediaDir, f))).toBe(true);
    }
  });
});
