/** PROTOCOL §7: a pet image that is replaced or removed, or whose owner is deleted, is deleted from storage and no longer served. */
import { existsSync } from "node:fs";
import path from "node:path";
import { inArray } from "drizzle-orm";
import { pets as petsTable } from "../../../../../src/db/schema.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../../../support/gateway.js";
import { createAppClient, JPEG, PNG, postMultipart, registerUser, type AppClient } from "../../../../support/v2.js";

describe("pet image lifecycle", () => {
  let gw: TestGateway;
  let a: AppClient;
  beforeAll(async () => {
    gw = await startTestGateway();
    a = await createAppClient(gw);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const stored = (profile: string) => path.join(gw.gateway.ctx.mediaDir, path.basename(profile));

  it("deletes the old file when pet/update brings a new image, keeps it on a field-only update", async () => {
    const user = await registerUser(a, { pet: { name: "milo" } });
    const petId = String(user.user.pets.id);
    const first = await postMultipart(
      gw,
      a,
      "/pet/update",
      { email: user.user.email, pet_id: petId },
      { data: PNG, name: "a.png", type: "image/png" },
    );
    expect(first.status).toBe(200);
    const firstProfile: string = first.body.data.pet.profile;
    expect(existsSync(stored(firstProfile))).toBe(true);

    const fieldsOnly = await a.call("POST", "/pet/update", {
      email: user.user.email,
      pet_id: Number(petId),
      pet: { color: "Grey" },
    });
    expect(fieldsOnly.status).toBe(200);
    expect(fieldsOnly.body.data.pet.profile).toBe(firstProfile);
    expect(existsSync(stored(firstProfile))).toBe(true);

    const second = await postMultipart(
      gw,
      a,
      "/pet/update",
      { email: user.user.email, pet_id: petId },
      { data: JPEG, name: "b.jpg", type: "image/jpeg" },
    );
    expect(second.status).toBe(200);
    const secondProfile: string = second.body.data.pet.profile;
    expect(secondProfile).not.toBe(firstProfile);
    expect(existsSync(stored(firstProfile))).toBe(false);
    expect((await fetch(firstProfile)).status).toBe(404);
    expect(existsSync(stored(secondProfile))).toBe(true);
    expect((await fetch(secondProfile)).status).toBe(200);
  });

  it("deletes the file when pet/remove removes the pet", async () => {
    const user = await registerUser(a, { pet: { name: "rex" } });
    const petId = user.user.pets.id as number;
    const up = await postMultipart(
      gw,
      a,
      "/pet/update",
      { email: user.user.email, pet_id: String(petId) },
      { data: PNG, name: "a.png", type: "image/png" },
    );
    const profile: string = up.body.data.pet.profile;
    expect(existsSync(stored(profile))).toBe(true);
    const removed = await a.call("POST", "/pet/remove", { email: user.user.email, pet_id: petId });
    expect(removed.status).toBe(200);
    expect(existsSync(stored(profile))).toBe(false);
    expect((await fetch(profile)).status).toBe(404);
  });

  it("delete-user soft-deletes the owner's pets with the owner and deletes their images (PROTOCOL §7)", async () => {
    const user = await registerUser(a, { pet: { name: "luna" } });
    const email = user.user.email as string;
    const firstPet = user.user.pets.id as number;
    const second = await a.call("POST", "/pet/add", { email, name: "sol" });
    expect(second.status).toBe(200);
    const profiles: string[] = [];
    for (const petId of [firstPet, second.body.data.pet.id as number]) {
      const up = await postMultipart(
        gw,
        a,
        "/pet/update",
        { email, pet_id: String(petId) },
        { data: PNG, name: "a.png", type: "image/png" },
      );
      profiles.push(up.body.data.pet.profile as string);
    }
    for (const p of profiles) expect((await fetch(p)).status).toBe(200);

    const deleted = await a.call("POST", "/delete-user", { email, app_id: a.app.id });
    expect(deleted.status).toBe(200);
    for (const p of profiles) {
      expect(existsSync(stored(p))).toBe(false);
      expect((await fetch(p)).status).toBe(404);
    }
    const pets = await gw.gateway.ctx.repos.pets.listByOwnerEmail(a.app.id, email);
    expect(pets ?? []).toEqual([]);
    const rows = await gw.database.db
      .select({ deletedAt: petsTable.deletedAt })
      .from(petsTable)
      .where(inArray(petsTable.id, [firstPet, second.body.data.pet.id as number]));
    expect(rows.map((r) => r.deletedAt)).toEqual([expect.any(Date), expect.any(Date)]);
  });
});
