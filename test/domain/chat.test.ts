import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/app-error.js";
import { MemoryRoutingStore } from "../../src/routing-store/memory/store.js";
import { makeEngine } from "../support/engine-fakes.js";
import { engineHelpers } from "./engine-helpers.js";

/**
 * Chat without Twilio (PROTOCOL §10) in the engine: record first, who hears a message, and the
 * replay when the chat log cannot be read. In-memory store and chat log, manual clock.
 */
describe("chat (offline mode)", () => {
  let store: MemoryRoutingStore;
  let t: ReturnType<typeof makeEngine>;
  const { online, user, request } = engineHelpers(() => t);

  beforeEach(() => {
    store = new MemoryRoutingStore();
    t = makeEngine(store);
  });

  async function activeWithVet1(): Promise<string> {
    await online(1);
    await user(1);
    const r = await request(1);
    await t.engine.accept(1, r.consultation_id);
    return r.consultation_id;
  }

  it("stores the message, then tells the owner and the vet holding it (nobody else)", async () => {
    const id = await activeWithVet1();
    await online(2);
    t.notifier.clear();
    const m = await t.engine.sendChat({ kind: "owner", appId: 1, userId: 1 }, id, "Hello");
    expect(t.chat.messages).toEqual([
      expect.objectContaining({ id: m.id, consultationId: id, author: "owner", userId: 1, vetId: null, text: "Hello" }),
    ]);
    expect(t.notifier.events.filter((e) => e.event === "chat:message").map((e) => e.to)).toEqual(["user:1:1", "vet:1"]);
    expect(t.notifier.of("vet:1", "chat:message")).toEqual([{ consultation_id: id, message: m }]);
    expect(m.created_at).toBe(new Date(t.clock.now()).toISOString());
  });

  it("a warm referral's overlap: both vets hear the chat and may write; after leave only the next vet", async () => {
    const id = await activeWithVet1();
    await online(2);
    await t.engine.transfer(1, id, { to: { vet_email: "vet2@example.com" }, note: "", mode: "warm" });
    await t.engine.accept(2, id);
    t.notifier.clear();
    const m = await t.engine.sendChat({ kind: "vet", vetId: 1 }, id, "Handing over to Dr. Last2");
    expect(t.notifier.events.filter((e) => e.event === "chat:message").map((e) => e.to)).toEqual([
      "user:1:1",
      "vet:2",
      "vet:1",
    ]);
    expect(m.author).toBe("vet");
    await t.engine.leave(1, id);
    t.notifier.clear();
    await t.engine.sendChat({ kind: "owner", appId: 1, userId: 1 }, id, "Thanks");
    expect(t.notifier.events.filter((e) => e.event === "chat:message").map((e) => e.to)).toEqual(["user:1:1", "vet:2"]);
    await expect(t.engine.sendChat({ kind: "vet", vetId: 1 }, id, "Still here?")).rejects.toMatchObject({
      status: 404,
    });
  });

  it("a write the database refuses is an error and tells nobody", async () => {
    const id = await activeWithVet1();
    t.notifier.clear();
    t.chat.append = () => Promise.reject(new Error("connection terminated"));
    await expect(t.engine.sendChat({ kind: "vet", vetId: 1 }, id, "Hi")).rejects.toThrow("connection terminated");
    expect(t.notifier.events.filter((e) => e.event === "chat:message")).toEqual([]);
  });

  it("a chat log that cannot be read leaves messages out of the resume instead of failing it", async () => {
    const id = await activeWithVet1();
    await t.engine.sendChat({ kind: "vet", vetId: 1 }, id, "Hi");
    expect((await t.engine.vetResume(1)).states[0].messages).toHaveLength(1);
    t.chat.page = () => Promise.reject(new Error("timeout"));
    const resumed = await t.engine.vetResume(1);
    expect(resumed.states).toHaveLength(1);
    expect(resumed.states[0]).not.toHaveProperty("messages");
  });

  it("a vet who does not hold it gets 404; one still open in the database but not live gets 503", async () => {
    const id = await activeWithVet1();
    await expect(t.engine.sendChat({ kind: "vet", vetId: 2 }, id, "Hi")).rejects.toMatchObject({ status: 404 });
    await expect(t.engine.sendChat({ kind: "owner", appId: 1, userId: 2 }, id, "Hi")).rejects.toBeInstanceOf(AppError);
    // The live state lost it (Redis came back empty) while the database has it active.
    await store.close();
    const fresh = new MemoryRoutingStore();
    const other = makeEngine(fresh, { ledger: t.ledger });
    await expect(other.engine.sendChat({ kind: "owner", appId: 1, userId: 1 }, id, "Hi")).rejects.toMatchObject({
      retryAfterS: 5,
    });
  });
});
