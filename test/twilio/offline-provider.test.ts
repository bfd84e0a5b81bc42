import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { createTwilioProvider } from "../../src/twilio/create-provider.js";
import { startFakeTwilio, type FakeTwilio } from "../support/fake-twilio.js";

describe("offline Twilio provider", () => {
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = await startFakeTwilio();
  });
  afterAll(async () => {
    await fake.close();
  });

  it("mints Twilio-shaped SIDs locally and opens no connection", async () => {
    // Even with a base URL configured, offline mode must not reach it (or anything else).
    const cfg = {
      ...loadConfig({ NODE_ENV: "test" }).twilio,
      apiSecret: "offline-test-api-secret-0123456789",
      apiBaseUrl: fake.url,
    };
    const provider = createTwilioProvider(cfg, createLogger("silent"));
    expect(provider.mode).toBe("offline");

    const sockets: unknown[] = [];
    const onSocket = (m: unknown) => sockets.push(m);
    subscribe("net.client.socket", onSocket);
    subscribe("undici:request:create", onSocket);
    try {
      const a = await provider.createConversation({
        uniqueName: "c-1",
        userIdentity: "local-app-1_user-1",
        vetIdentity: "app-1_vet-1",
      });
      const b = await provider.createConversation({
        uniqueName: "c-2",
        userIdentity: "local-app-1_user-1",
        vetIdentity: "app-1_vet-1",
      });
      const room = await provider.createRoom({ uniqueName: "c-1" });
      await provider.addParticipant(a.sid, "app-1_vet-2");
      await provider.removeParticipant(a.sid, "app-1_vet-1");
      await provider.closeConversation(a.sid);
      await provider.completeRoom(room.sid);

      expect(a.sid).toMatch(/^CH[0-9a-f]{32}$/);
      expect(b.sid).toMatch(/^CH[0-9a-f]{32}$/);
      expect(b.sid).not.toBe(a.sid);
      expect(room.sid).toMatch(/^RM[0-9a-f]{32}$/);
    } finally {
      unsubscribe("net.client.socket", onSocket);
      unsubscribe("undici:request:create", onSocket);
    }
    expect(sockets).toEqual([]);
    expect(fake.requests).toEqual([]);
  });
});
