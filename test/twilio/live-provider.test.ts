import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type ResolvedConfig } from "../../src/config.js";
import { AppError } from "../../src/lib/app-error.js";
import { createLogger } from "../../src/lib/logger.js";
import { rewriteTwilioUrl } from "../../src/twilio/live-provider.js";
import type { TwilioProvider } from "../../src/domain/ports.js";
import { createTwilioProvider } from "../../src/twilio/create-provider.js";
import { startFakeTwilio, type FakeTwilio } from "../support/fake-twilio.js";

const IS = "IS" + "1".repeat(32);
const USER = "local-app-3_user-17";
const VET = "app-1_vet-4";
const FAST = { attempts: 3, baseDelayMs: 1 };

describe("rewriteTwilioUrl", () => {
  it("maps https://<product>.twilio.com/<path> to <base>/<product>/<path>", () => {
    const base = "http://127.0.0.1:9999";
    expect(rewriteTwilioUrl(`https://conversations.twilio.com/v1/Services/${IS}/Conversations`, base)).toBe(
      `${base}/conversations/v1/Services/${IS}/Conversations`,
    );
    expect(rewriteTwilioUrl("https://video.twilio.com/v1/Rooms", `${base}/`)).toBe(`${base}/video/v1/Rooms`);
    expect(rewriteTwilioUrl("https://video.sydney.au1.twilio.com/v1/Rooms?x=1", `${base}/tw`)).toBe(
      `${base}/tw/video/v1/Rooms?x=1`,
    );
    expect(rewriteTwilioUrl("https://example.com/v1/Rooms", base)).toBe("https://example.com/v1/Rooms");
  });
});

describe("live Twilio provider against the fake", () => {
  let fake: FakeTwilio;
  let cfg: ResolvedConfig["twilio"];
  let logs: string[];
  let provider: TwilioProvider;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    cfg = {
      ...loadConfig({ NODE_ENV: "test" }).twilio,
      mode: "live",
      apiBaseUrl: fake.url,
      accountSid: "AC" + "2".repeat(32),
      apiKey: "SK" + "3".repeat(32),
      apiSecret: "live-test-secret-must-never-be-logged",
      chatServiceSid: IS,
    };
  });
  afterAll(async () => {
    await fake.close();
  });

  const make = (retry = FAST) => {
    logs = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    provider = createTwilioProvider(cfg, createLogger("debug", sink), { retry });
    return provider;
  };
  const calls = () => fake.requests.map((r) => [r.method, r.path, r.body]);
  const statuses = () => fake.requests.map((r) => r.status);

  afterEach(() => {
    fake.requests.length = 0;
    fake.failNext(0, 0);
    // Whatever happened, neither the secret nor the Basic credentials reached a log line.
    const basic = Buffer.from(`${cfg.apiKey}:${cfg.apiSecret}`).toString("base64");
    for (const line of logs) {
      expect(line).not.toContain(cfg.apiSecret);
      expect(line).not.toContain(basic);
    }
  });

  it("creates the conversation and adds both participants, with API-key auth", async () => {
    const { sid } = await make().createConversation({
      uniqueName: "consult-a",
      friendlyName: "Consultation a",
      userIdentity: USER,
      vetIdentity: VET,
    });
    expect(provider.mode).toBe("live");
    expect(sid).toMatch(/^CH[0-9a-f]{32}$/);
    expect(calls()).toEqual([
      [
        "POST",
        `/conversations/v1/Services/${IS}/Conversations`,
        { UniqueName: "consult-a", FriendlyName: "Consultation a" },
      ],
      ["POST", `/conversations/v1/Services/${IS}/Conversations/${sid}/Participants`, { Identity: USER }],
      ["POST", `/conversations/v1/Services/${IS}/Conversations/${sid}/Participants`, { Identity: VET }],
    ]);
    expect(statuses()).toEqual([201, 201, 201]);
    expect(fake.requests.every((r) => r.user === cfg.apiKey)).toBe(true);
  });

  it("omits FriendlyName when none is given, and closes with State=closed", async () => {
    const p = make();
    const { sid } = await p.createConversation({ uniqueName: "consult-b", userIdentity: USER, vetIdentity: VET });
    await p.closeConversation(sid);
    expect(calls()[0]).toEqual(["POST", `/conversations/v1/Services/${IS}/Conversations`, { UniqueName: "consult-b" }]);
    expect(calls()[3]).toEqual(["POST", `/conversations/v1/Services/${IS}/Conversations/${sid}`, { State: "closed" }]);
    expect(statuses()[3]).toBe(200);
  });

  it("creates a group room and completes it with Status=completed", async () => {
    const p = make();
    const { sid } = await p.createRoom({ uniqueName: "consult-c" });
    expect(sid).toMatch(/^RM[0-9a-f]{32}$/);
    await p.completeRoom(sid);
    expect(calls()).toEqual([
      ["POST", "/video/v1/Rooms", { UniqueName: "consult-c", Type: "group" }],
      ["POST", `/video/v1/Rooms/${sid}`, { Status: "completed" }],
    ]);
    expect(statuses()).toEqual([201, 200]);
  });

  it("treats completing an already completed room as done", async () => {
    const p = make();
    const { sid } = await p.createRoom({ uniqueName: "consult-d" });
    await p.completeRoom(sid);
    await expect(p.completeRoom(sid)).resolves.toBeUndefined();
    expect(statuses()).toEqual([201, 200, 400]);
  });

  it("reuses an in-progress room with the same unique name", async () => {
    const p = make();
    const first = await p.createRoom({ uniqueName: "consult-e" });
    const again = await p.createRoom({ uniqueName: "consult-e" });
    expect(again.sid).toBe(first.sid);
    expect(calls().slice(1)).toEqual([
      ["POST", "/video/v1/Rooms", { UniqueName: "consult-e", Type: "group" }],
      ["GET", "/video/v1/Rooms/consult-e", {}],
    ]);
  });

  it.each([500, 503, 429, 0])("retries a create that failed with %i, then succeeds", async (status) => {
    fake.failNext(2, status);
    const { sid } = await make().createRoom({ uniqueName: `consult-retry-${status}` });
    expect(sid).toMatch(/^RM/);
    const create = ["POST", "/video/v1/Rooms", { UniqueName: `consult-retry-${status}`, Type: "group" }];
    expect(calls()).toEqual([create, create, create]);
    expect(statuses()).toEqual([status, status, 201]);
  });

  it("gives up after the configured attempts with AppError 502", async () => {
    fake.failNext(10, 503);
    const err = await make()
      .closeConversation("CH" + "0".repeat(32))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 502, messages: ["Twilio is unavailable, please retry"] });
    expect(fake.requests).toHaveLength(3);

    fake.requests.length = 0;
    fake.failNext(10, 0);
    await expect(make({ attempts: 2, baseDelayMs: 1 }).createRoom({ uniqueName: "x" })).rejects.toMatchObject({
      status: 502,
    });
    expect(fake.requests).toHaveLength(2);
  });

  it("backs off exponentially between attempts", async () => {
    fake.failNext(2, 500);
    const started = performance.now();
    await make({ attempts: 3, baseDelayMs: 40 }).createRoom({ uniqueName: "consult-backoff" });
    // 40 ms, then 80 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    expect(logs.filter((l) => l.includes("retrying")).map((l) => JSON.parse(l).delayMs)).toEqual([40, 80]);
  });

  it.each([400, 401, 404])("does not retry a %i", async (status) => {
    fake.failNext(1, status);
    await expect(make().createRoom({ uniqueName: `consult-${status}` })).rejects.toMatchObject({
      status: 502,
      messages: ["Twilio rejected the request"],
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("throws when a participant cannot be added, and a second call completes the same conversation", async () => {
    const p = make();
    const input = { uniqueName: "consult-f", userIdentity: USER, vetIdentity: VET };
    // Conversation created, the user added, then the vet's add fails on every attempt.
    fake.failNext(3, 503, (r) => r.body.Identity === VET);
    await expect(p.createConversation(input)).rejects.toMatchObject({ status: 502 });
    expect(statuses()).toEqual([201, 201, 503, 503, 503]);
    const sid = (await fetchJson(`${fake.url}/conversations/v1/Services/${IS}/Conversations/consult-f`)).sid as string;

    fake.requests.length = 0;
    await expect(p.createConversation(input)).resolves.toEqual({ sid });
    expect(calls()).toEqual([
      ["POST", `/conversations/v1/Services/${IS}/Conversations`, { UniqueName: "consult-f" }],
      ["GET", `/conversations/v1/Services/${IS}/Conversations/consult-f`, {}],
      ["POST", `/conversations/v1/Services/${IS}/Conversations/${sid}/Participants`, { Identity: USER }],
      ["POST", `/conversations/v1/Services/${IS}/Conversations/${sid}/Participants`, { Identity: VET }],
    ]);
    expect(statuses()).toEqual([409, 200, 409, 201]);
  });

  it("hands a Conversation over: adds the next vet, removes the old one by its participant SID; both idempotent", async () => {
    const p = make();
    const { sid } = await p.createConversation({ uniqueName: "consult-h", userIdentity: USER, vetIdentity: VET });
    const NEXT = "app-1_vet-9";
    fake.requests.length = 0;
    await p.addParticipant(sid, NEXT);
    await p.addParticipant(sid, NEXT);
    await p.removeParticipant(sid, VET);
    await p.removeParticipant(sid, VET);
    expect(fake.participants(sid)).toEqual([USER, NEXT]);
    const base = `/conversations/v1/Services/${IS}/Conversations/${sid}/Participants`;
    expect(calls().map(([m, path]) => `${m as string} ${(path as string).replace(base, "P")}`)).toEqual([
      "POST P",
      "POST P",
      "GET P",
      expect.stringMatching(/^DELETE P\/MB[0-9a-f]{32}$/),
      "GET P",
    ]);
    expect(statuses()).toEqual([201, 409, 200, 204, 200]);
  });
});

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { authorization: "Basic " + Buffer.from("SKtest:x").toString("base64") } });
  return (await res.json()) as Record<string, unknown>;
}
