/**
 * Pet history and outcomes in Chromium (PROTOCOL §10): a vet offered a pet with earlier
 * consultations sees "N earlier consultations" on the offer, the "Pet history" panel beside
 * the accepted consultation (one item per past consultation, "More" for the next page), and
 * cannot send feedback without an outcome; with one it is recorded. Screenshots pass
 * axe-core's WCAG 2 A/AA rules.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveConsultation } from "../../src/domain/types.js";
import { ownerActor, vetActor, type OwnerActor } from "../support/actors.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";
import { BrowserSession, SLOW } from "./session.js";

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const APP = "petcube";
const SECRET = "petcube-secret-123456";
const app = { authorization: basicAuth(APP, SECRET) };
/** Older consultations made straight in the ledger, so the history needs a second page. */
const OLDER = 21;

let gw: TestGateway;
let session: BrowserSession;
let owner: OwnerActor;
let petId: number;

const openPage = (): Promise<Page> => session.openPage(900);
const shotAccessible = (page: Page, name: string): Promise<void> =>
  session.shotAccessible(page, name, { fullPage: true });

const vetToken = async (email: string, password: string): Promise<string> =>
  (await request(gw.url, "POST", "/vet/v1/login", { body: { email, password } })).body.data.token as string;

beforeAll(async () => {
  await buildPages();
  gw = await startTestGateway({ db: "pglite" });
  session = await BrowserSession.launch();
  await request(gw.url, "POST", "/admin/v1/apps", { headers: admin, body: { name: APP, secret: SECRET } });
  const ana = await request(gw.url, "POST", "/admin/v1/vets", {
    headers: admin,
    body: { email: "ana.kim@example.com", password: "vet-password-1", first_name: "Ana", last_name: "Kim" },
  });
  const ben = await request(gw.url, "POST", "/admin/v1/vets", {
    headers: admin,
    body: { email: "ben.ode@example.com", password: "vet-password-2", first_name: "Ben", last_name: "Ode" },
  });
  expect([ana.status, ben.status]).toEqual([201, 201]);
  const reg = await request(gw.url, "POST", "/api/v2/petcube/register-user", {
    headers: app,
    body: {
      first_name: "Sam",
      last_name: "Rivera",
      email: "sam@example.com",
      role: "users",
      pet: { name: "Biscuit", species: "dog", breed: "Beagle", age: "3 years", weight: "22" },
    },
  });
  petId = reg.body.data.user.pets.id as number;
  const userId = reg.body.data.user.id as number;
  const appId = reg.body.data.user.app_id as number;

  // Older consultations with Ben, months ago, straight into the ledger (no feedback).
  const ledger = gw.gateway.ctx.repos.ledger;
  const t0 = Date.now() - 200 * 86_400_000;
  for (let i = 0; i < OLDER; i++) {
    const at = t0 + i * 86_400_000;
    const c: LiveConsultation = {
      id: randomUUID(),
      appId,
      userId,
      petId,
      type: i % 2 ? "video" : "chat",
      status: "queued",
      seq: 1,
      createdAt: at,
      queueDeadline: at + 600_000,
      requestedVetId: null,
      offer: null,
      excludedVetIds: [],
      vetId: null,
      acceptedAt: null,
      channelSid: null,
      roomSid: null,
      profile: { user: { id: userId, first_name: "Sam", last_name: "Rivera", email: "sam@example.com" }, pet: null },
    };
    await ledger.create(c, "socket");
    await ledger.transition(c.id, "active", at + 30_000, { vetId: ben.body.data.id as number });
    await ledger.transition(c.id, "ended", at + 630_000, { endedBy: "vet" });
  }

  // The latest one, yesterday's kind: a real consultation with Ben, ended with feedback and an outcome.
  const socketToken = await request(gw.url, "POST", "/api/v2/petcube/socket-token", {
    headers: app,
    body: { email: "sam@example.com" },
  });
  owner = await ownerActor(gw.url, socketToken.body.data.token as string);
  const benVet = await vetActor(gw.url, await vetToken("ben.ode@example.com", "vet-password-2"));
  const { consultation_id: id } = await owner.request({
    conversation_request: "chat",
    pet_id: petId,
    doctor_email: "ben.ode@example.com",
  });
  await benVet.next("consult:offer", (o) => o.consultation_id === id);
  await benVet.accept(id);
  await benVet.end(id);
  await benVet.sendFeedback(
    id,
    "Bring Biscuit to the clinic for an X-ray.",
    "Limping on the front left leg.",
    "clinic_visit",
  );
  benVet.close();
}, 120_000);

afterAll(async () => {
  owner?.close();
  await session?.close();
  await gw?.close();
});

describe("pet history and outcomes in the console", () => {
  it("the offer counts earlier consultations; the panel lists them with More; feedback needs an outcome", async () => {
    const vet = await openPage();
    await vet.goto(`${gw.url}/console/`);
    await vet.getByTestId("login-email").fill("ana.kim@example.com");
    await vet.getByTestId("login-password").fill("vet-password-1");
    await vet.getByTestId("login-submit").click();
    const availability = vet.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");

    const { consultation_id: id } = await owner.request({
      conversation_request: "chat",
      pet_id: petId,
      doctor_email: "ana.kim@example.com",
    });
    const offer = vet.getByTestId("offer");
    await offer.waitFor(SLOW);
    expect(await offer.getByTestId("offer-history-count").textContent()).toBe(
      `${String(OLDER + 1)} earlier consultations`,
    );
    await shotAccessible(vet, "30-console-offer-history-count");

    await offer.getByTestId("offer-accept").click();
    const panel = vet.getByTestId("pet-history");
    await panel.waitFor(SLOW);
    const items = panel.getByTestId("pet-history-item");
    await expect.poll(() => items.count(), SLOW).toBe(20);
    // Newest first: Ben's consultation with its outcome, advice and reason.
    const newest = items.first();
    expect(await newest.textContent()).toContain("Clinic visit advised");
    expect(await newest.textContent()).toContain("Dr. Ben Ode");
    expect(await newest.textContent()).toContain("Bring Biscuit to the clinic for an X-ray.");
    expect(await newest.textContent()).toContain("Limping on the front left leg.");
    expect(await items.nth(1).textContent()).toContain("No feedback was given.");
    // The current consultation is not in its own history.
    expect(await panel.locator(`[data-consultation-id="${id}"]`).count()).toBe(0);
    await shotAccessible(vet, "31-console-pet-history");
    const more = panel.getByTestId("pet-history-more");
    expect(await more.isVisible()).toBe(true);
    await more.click();
    await expect.poll(() => items.count(), SLOW).toBe(OLDER + 1);
    await expect.poll(() => more.isVisible(), SLOW).toBe(false);
    expect(await panel.getByRole("status").textContent()).toBe(
      `Showing ${String(OLDER + 1)} of ${String(OLDER + 1)} earlier consultations.`,
    );

    // Wrap-up: the form is not sent without an outcome.
    await vet.getByTestId("consultation-end").click();
    const select = vet.getByTestId("feedback-outcome");
    await select.waitFor(SLOW);
    expect(await select.getAttribute("required")).not.toBeNull();
    expect(await vet.getByLabel("Outcome").getAttribute("data-testid")).toBe("feedback-outcome");
    expect(await select.locator("option").allTextContents()).toEqual([
      "Choose an outcome…",
      "Resolved",
      "Follow-up needed",
      "Clinic visit advised",
      "Emergency referral",
      "Owner did not show",
      "Other",
    ]);
    await vet.getByTestId("feedback-recommendation").fill("Keep the leg rested for a week.");
    await vet.getByTestId("feedback-reason").fill("The X-ray showed a mild sprain.");
    await vet.getByTestId("feedback-submit").click();
    await expect.poll(() => vet.locator(".wrapup [role=status]").textContent(), SLOW).toBe("Please give an outcome.");
    expect(await select.getAttribute("aria-invalid")).toBe("true");
    const before = await request(gw.url, "GET", `/admin/v1/consultations/${id}`, { headers: admin });
    expect(before.body.data.feedback).toBeNull();

    await select.selectOption("follow_up");
    await shotAccessible(vet, "32-console-feedback-outcome");
    await vet.getByTestId("feedback-submit").click();
    await expect.poll(() => vet.locator(".wrapup").textContent(), SLOW).toContain("Feedback sent");
    const after = await request(gw.url, "GET", `/admin/v1/consultations/${id}`, { headers: admin });
    expect(after.body.data.feedback).toMatchObject({
      recommendation: "Keep the leg rested for a week.",
      outcome: "follow_up",
    });
    expect(await owner.next("consult:feedback", (f) => f.consultation_id === id)).toMatchObject({
      outcome: "follow_up",
    });

    // A pet without earlier consultations: "No earlier consultations" on the offer, the empty state in the panel.
    const added = await request(gw.url, "POST", "/api/v2/petcube/pet/add", {
      headers: app,
      body: { email: "sam@example.com", name: "Pepper", species: "cat" },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const pepperId = added.body.data.pet.id as number;
    const second = await owner.request({
      conversation_request: "video",
      pet_id: pepperId,
      doctor_email: "ana.kim@example.com",
    });
    const offer2 = vet.locator(`[data-testid=offer][data-consultation-id="${second.consultation_id}"]`);
    await offer2.waitFor(SLOW);
    expect(await offer2.getByTestId("offer-history-count").textContent()).toBe("No earlier consultations");
    await offer2.getByTestId("offer-accept").click();
    const empty = vet
      .locator(`[data-testid=consultation][data-consultation-id="${second.consultation_id}"]`)
      .getByTestId("pet-history");
    await expect
      .poll(() => empty.getByRole("status").textContent(), SLOW)
      .toBe("No earlier consultations for this pet.");
    expect(await empty.getByTestId("pet-history-item").count()).toBe(0);
    expect(await empty.getByTestId("pet-history-more").isVisible()).toBe(false);
    await shotAccessible(vet, "33-console-pet-history-empty");
    expect(session.problems).toEqual([]);
  }, 120_000);
});
