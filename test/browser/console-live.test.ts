/**
 * The vet console in live Twilio mode, in Chromium: a real gateway with `TWILIO_MODE=live`
 * against the fake Twilio REST, and the console's Twilio SDK chunk replaced by a fake SDK
 * (web/testing/fake-twilio-sdk.ts) through playwright's routing. What Twilio would decide
 * (token signature and grants, membership of the Conversation, the room being open) the fake
 * asks this test, which checks the JWT and the fake REST. The owner is played with the SDK.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { jwtVerify } from "jose";
import { chromium, type Browser, type Page } from "playwright-core";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerActor, seedApp, seedUser, seedVet } from "../support/actors.js";
import { LIVE_TWILIO, liveTwilioEnv, startFakeTwilio, type FakeTwilio } from "../support/fake-twilio.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { buildPages } from "./build-pages.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve("test-results/screenshots");
const { account: ACCOUNT, key: KEY, secret: SECRET, chatService: CHAT } = LIVE_TWILIO;
/** Polls wait on a browser and a gateway sharing two busy cores. */
const SLOW = { timeout: 10_000 };

let fake: FakeTwilio;
let gw: TestGateway;
let browser: Browser;
let fakeSdk: string;

/** The fake SDK as the browser loads it: the TypeScript module, types stripped. */
function transpileFakeSdk(): string {
  const source = readFileSync(path.resolve("web/testing/fake-twilio-sdk.ts"), "utf8");
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  });
  return out.outputText;
}

/** Twilio's side of a connect: a valid token for our account, and a grant for what is joined. */
async function authorize(req: {
  token: string;
  conversation?: string;
  room?: string;
}): Promise<{ identity: string } | { error: string }> {
  let grants: { identity?: string; chat?: { service_sid?: string }; video?: { room?: string } };
  try {
    const { payload } = await jwtVerify(req.token, new TextEncoder().encode(SECRET), { issuer: KEY, subject: ACCOUNT });
    grants = payload.grants as typeof grants;
  } catch (err) {
    return { error: `token rejected: ${String(err)}` };
  }
  const identity = grants.identity;
  if (!identity) return { error: "token has no identity" };
  if (req.conversation !== undefined) {
    if (grants.chat?.service_sid !== CHAT) return { error: "no chat grant for the service" };
    if (fake.conversationState(req.conversation) !== "active")
      return { error: `conversation ${req.conversation} not active` };
    if (!fake.participants(req.conversation).includes(identity)) return { error: `${identity} is not a participant` };
  }
  if (req.room !== undefined) {
    if (grants.video?.room !== req.room) return { error: `no video grant for room ${req.room}` };
    if (fake.room(req.room)?.status !== "in-progress") return { error: `room ${req.room} not in progress` };
  }
  return { identity };
}

beforeAll(async () => {
  await buildPages();
  fakeSdk = transpileFakeSdk();
  fake = await startFakeTwilio();
  gw = await startTestGateway({
    db: "pglite",
    env: {
      ...liveTwilioEnv(fake),
      WRAPUP_MS: "60000",
    },
    twilioRetry: { attempts: 2, baseDelayMs: 5 },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await fake?.close();
});

/** What the console did through the fake SDK (web/testing/fake-twilio-sdk.ts `FakeTwilioEvent`). */
type FakeTwilioEvent = { op: string } & Record<string, unknown>;
const events = (page: Page) => page.evaluate(() => (globalThis as any).fakeTwilio.log) as Promise<FakeTwilioEvent[]>;

describe("vet console, live Twilio mode", () => {
  it("joins the consultation's Conversation and the call's room, shows messages and video, and leaves on end", async () => {
    const app = await seedApp(gw.gateway);
    const vet = await seedVet(gw.gateway);
    const user = await seedUser(gw.gateway, app.id);
    const vetIdentity = gw.gateway.ctx.tokens.forVet(vet.id).identity;
    const ownerIdentity = gw.gateway.ctx.tokens.forUser(app.id, user.userId).identity;

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    const problems: string[] = [];
    const faked: string[] = [];
    await ctx.route("**/assets/twilio-sdk-*.js", (route) => {
      faked.push(route.request().url());
      return route.fulfill({ status: 200, contentType: "text/javascript", body: fakeSdk });
    });
    await ctx.exposeFunction("fakeTwilioAuthorize", authorize);
    const page = await ctx.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    const foreign: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).host !== new URL(gw.url).host) foreign.push(r.url());
    });

    await page.goto(`${gw.url}/console/`);
    await page.getByTestId("login-email").fill(vet.email);
    await page.getByTestId("login-password").fill("password-123");
    await page.getByTestId("login-submit").click();
    const availability = page.getByTestId("availability");
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("away");
    // Live mode: nothing claims that chat and video are simulated.
    expect(await page.locator("#mode").isHidden()).toBe(true);
    await availability.click();
    await expect.poll(() => availability.getAttribute("value"), SLOW).toBe("available");

    const owner = await ownerActor(gw.url, user.token);
    const { consultation_id: id } = await owner.request({ conversation_request: "video", pet_id: user.petId });
    await page.getByTestId("offer").getByTestId("offer-accept").click();
    const panel = page.locator(`[data-testid=consultation][data-consultation-id="${id}"]`);
    await panel.waitFor();
    expect(await panel.textContent()).not.toMatch(/simulated/i);
    const { channel } = await owner.next("consult:matched");
    expect(channel).toMatch(/^CH/);

    // Chat: the console joined this consultation's Conversation as the vet.
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual({ op: "chat.join", sid: channel, identity: vetIdentity });
    expect(faked.length).toBeGreaterThan(0);
    const input = panel.getByRole("textbox", { name: "Message" });
    await expect.poll(() => input.isEnabled(), SLOW).toBe(true);
    await input.fill("Hello, how is he eating today?");
    await input.press("Enter");
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual({ op: "chat.send", sid: channel, author: vetIdentity, body: "Hello, how is he eating today?" });
    const messages = panel.getByRole("list", { name: "Messages" }).locator("li");
    await expect.poll(() => messages.last().textContent(), SLOW).toBe("YouHello, how is he eating today?");
    expect(await messages.last().getAttribute("class")).toBe("mine");
    await page.evaluate(
      ([sid, who]) => (globalThis as any).fakeTwilio.say(sid, who, "Only a little since yesterday."),
      [channel, ownerIdentity],
    );
    await expect.poll(() => messages.last().textContent(), SLOW).toBe("OwnerOnly a little since yesterday.");
    expect(await messages.last().getAttribute("class")).toBe("theirs");
    expect(await input.inputValue()).toBe("");
    // A long consultation keeps its chat: an expiring token is replaced by a fresh one (token:refresh).
    await page.evaluate(() => (globalThis as any).fakeTwilio.expireSoon());
    await expect.poll(() => events(page), SLOW).toContainEqual({ op: "chat.token", identity: vetIdentity });
    await page.screenshot({ path: path.join(SHOTS, "live-01-console-chat.png") });

    // Video: "Start video call" connects to the call's room with camera and microphone.
    await panel.getByTestId("call-start").click();
    const incoming = await owner.next("call:incoming");
    expect(incoming.room_sid).toMatch(/^RM/);
    expect(fake.room(incoming.room_sid)?.uniqueName).toBe(id);
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual({
        op: "video.connect",
        name: incoming.room_sid,
        identity: vetIdentity,
        video: true,
        audio: true,
      });
    const local = panel.getByRole("group", { name: "Your camera" }).locator("video");
    await local.waitFor();
    await page.evaluate(
      ([room, who]) => (globalThis as any).fakeTwilio.joinRoom(room, who),
      [incoming.room_sid, ownerIdentity],
    );
    const remote = panel.getByRole("group", { name: "The owner's video" }).locator("video");
    await remote.waitFor();
    // Both play frames (the fake's canvas tracks), not just empty elements.
    await expect.poll(() => local.evaluate((v) => (v as any).videoWidth), SLOW).toBe(320);
    await expect.poll(() => remote.evaluate((v) => (v as any).videoWidth), SLOW).toBe(320);
    await owner.callStatus(incoming.room_sid, "accepted");
    await expect.poll(() => panel.locator(".call-status").textContent(), SLOW).toContain("answered");
    await page.screenshot({ path: path.join(SHOTS, "live-02-console-video.png") });

    // End: the console leaves the room and the Conversation; the gateway closes both at Twilio.
    await panel.getByTestId("consultation-end").click();
    await page.getByTestId("feedback-recommendation").waitFor();
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual({ op: "video.disconnect", name: incoming.room_sid, identity: vetIdentity });
    await expect.poll(() => events(page), SLOW).toContainEqual({ op: "chat.shutdown", identity: vetIdentity });
    expect(await page.locator("video").count()).toBe(0);
    await expect.poll(() => fake.room(incoming.room_sid)?.status, SLOW).toBe("completed");
    await expect.poll(() => fake.conversationState(channel), SLOW).toBe("closed");

    owner.close();
    await ctx.close();
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it("resumes after a reload by joining the Conversation again", async () => {
    const app = await seedApp(gw.gateway);
    const vet = await seedVet(gw.gateway);
    const user = await seedUser(gw.gateway, app.id);
    const ctx = await browser.newContext();
    await ctx.route("**/assets/twilio-sdk-*.js", (route) =>
      route.fulfill({ status: 200, contentType: "text/javascript", body: fakeSdk }),
    );
    await ctx.exposeFunction("fakeTwilioAuthorize", authorize);
    const page = await ctx.newPage();
    await page.goto(`${gw.url}/console/`);
    await page.getByTestId("login-email").fill(vet.email);
    await page.getByTestId("login-password").fill("password-123");
    await page.getByTestId("login-submit").click();
    await expect.poll(() => page.getByTestId("availability").getAttribute("value"), SLOW).toBe("away");
    await page.getByTestId("availability").click();
    await expect.poll(() => page.getByTestId("availability").getAttribute("value"), SLOW).toBe("available");
    const owner = await ownerActor(gw.url, user.token);
    const { consultation_id: id } = await owner.request({ conversation_request: "chat", pet_id: user.petId });
    await page.getByTestId("offer-accept").click();
    const { channel } = await owner.next("consult:matched");
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual(expect.objectContaining({ op: "chat.join", sid: channel }));

    await page.reload();
    await page.locator(`[data-testid=consultation][data-consultation-id="${id}"]`).waitFor();
    await expect
      .poll(() => events(page), SLOW)
      .toContainEqual(expect.objectContaining({ op: "chat.join", sid: channel }));
    // A chat consultation has no call button and joins no room.
    expect(await page.getByTestId("call-start").count()).toBe(0);
    expect((await events(page)).some((e) => e.op === "video.connect")).toBe(false);

    await owner.end(id);
    await expect.poll(() => events(page), SLOW).toContainEqual(expect.objectContaining({ op: "chat.shutdown" }));
    owner.close();
    await ctx.close();
  }, 60_000);
});
