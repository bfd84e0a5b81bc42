/**
 * Makes the screenshots of docs/pages.md (docs/screenshots/) without demo mode: seeds an app, a vet and an owner over
 * the admin and v2 APIs, plays the owner with the client SDK, and photographs the vet
 * console and the dashboard in Chromium. Run after `npx vite build`:
 * `npx tsx test/browser/screenshots.ts` → test-results/screenshots/readme-*.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { createOwnerClient } from "../../src/client/index.js";
import { basicAuth, request, startTestGateway, TEST_ADMIN_TOKEN } from "../support/gateway.js";

const out = path.resolve("test-results/screenshots");
mkdirSync(out, { recursive: true });
const gw = await startTestGateway({ db: "pglite" });
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const app = { authorization: basicAuth("petcube", "petcube-secret-123456") };
await request(gw.url, "POST", "/admin/v1/apps", {
  headers: admin,
  body: { name: "petcube", secret: "petcube-secret-123456" },
});
await request(gw.url, "POST", "/admin/v1/vets", {
  headers: admin,
  body: {
    email: "ana.kim@example.com",
    password: "vet-password-1",
    first_name: "Ana",
    last_name: "Kim",
    species: ["dog", "cat"],
    languages: ["en", "es"],
    max_chats: 2,
  },
});
const reg = await request(gw.url, "POST", "/api/v2/petcube/register-user", {
  headers: app,
  body: {
    first_name: "Sam",
    last_name: "Rivera",
    email: "sam@example.com",
    role: "protect_users",
    emergency_fund: 500,
    pet: { name: "Biscuit", species: "dog", breed: "Beagle", age: "3 years", weight: "22" },
  },
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const vet = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await vet.goto(`${gw.url}/console/`);
  await vet.getByTestId("login-email").fill("ana.kim@example.com");
  await vet.getByTestId("login-password").fill("vet-password-1");
  await vet.getByTestId("login-submit").click();
  await vet.locator("[data-testid=availability][value=away]").waitFor();
  await vet.getByTestId("availability").click();
  await vet.locator("[data-testid=availability][value=available]").waitFor();
  const owner = createOwnerClient({
    url: gw.url,
    getToken: async () =>
      (
        await request(gw.url, "POST", "/api/v2/petcube/socket-token", {
          headers: app,
          body: { email: "sam@example.com" },
        })
      ).body.data,
  });
  // A subscribed Protect owner asks for an emergency video call in Spanish: the offer shows every badge.
  await owner.request({
    conversation_request: "video",
    pet_id: reg.body.data.user.pets.id,
    doctor_email: "ana.kim@example.com",
    language: "es",
    emergency: true,
  });
  await vet.getByTestId("offer").waitFor();
  await vet.waitForTimeout(2_500);
  await vet.screenshot({ path: path.join(out, "readme-console-offer.png") });
  await vet.getByTestId("offer-accept").click();
  await vet.getByTestId("consultation").waitFor();
  // The console reads the queue again when its offers change.
  await vet.locator("[data-testid=queue-length][data-value='0']").waitFor();
  await vet.screenshot({ path: path.join(out, "readme-console-active.png") });
  const ops = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await ops.goto(`${gw.url}/ops/`);
  await ops.getByTestId("admin-token").fill(TEST_ADMIN_TOKEN);
  await ops.getByTestId("admin-submit").click();
  // Two history samples (10 s apart) make a line rather than a dot.
  await ops.waitForTimeout(12_000);
  await ops.reload();
  await ops.getByTestId("chart-vets").locator("canvas").waitFor();
  await ops.waitForTimeout(500);
  await ops.screenshot({ path: path.join(out, "readme-ops-dashboard.png") });
  owner.close();
} finally {
  await browser.close();
  await gw.close();
}
