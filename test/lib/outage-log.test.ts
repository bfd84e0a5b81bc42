import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/lib/clock.js";
import { OutageLog, outageCause } from "../../src/lib/outage-log.js";
import { capturingLogger } from "../support/gateway.js";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("OutageLog", () => {
  it("logs the first of a kind and cause at once, and the repeats as one line with a count", () => {
    const { logger, lines } = capturingLogger("info");
    const clock = new ManualClock();
    const log = new OutageLog(logger, clock);
    for (let i = 0; i < 50; i++) log.warn("handshake refused", refused(), { namespace: "user" });
    log.warn("request refused", refused());
    expect(lines.map((l) => [l.msg, l.cause, l.namespace])).toEqual([
      ["handshake refused", "ECONNREFUSED", "user"],
      ["request refused", "ECONNREFUSED", undefined],
    ]);
    clock.advance(5000);
    log.flush();
    expect(lines.slice(2)).toEqual([
      expect.objectContaining({
        msg: "handshake refused (repeated)",
        cause: "ECONNREFUSED",
        repeats: 49,
        window_s: 5,
        namespace: "user",
      }),
    ]);
    // A new window starts with a line of its own.
    log.warn("handshake refused", refused());
    expect(lines).toHaveLength(4);
    log.close();
  });

  it("never logs a stack trace or the query's text", () => {
    const { logger, lines } = capturingLogger("info");
    const log = new OutageLog(logger, new ManualClock());
    const drizzle = new Error('Failed query: select "password_hash" from "vets" where "id" = $1\nparams: 7', {
      cause: new Error("Connection terminated unexpectedly"),
    });
    log.warn("handshake refused", drizzle);
    expect(lines).toHaveLength(1);
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("select");
    expect(text).not.toContain("stack");
    expect(lines[0].cause).toBe("Connection terminated unexpectedly");
    log.close();
  });

  it("names the cause by the first code in the chain, else the innermost message's first line", () => {
    expect(outageCause(new Error("Service Unavailable", { cause: refused() }))).toBe("ECONNREFUSED");
    expect(outageCause(Object.assign(new Error("canceling statement"), { code: "57014" }))).toBe("57014");
    expect(outageCause(new Error("timeout exceeded when trying to connect\n at x"))).toBe(
      "timeout exceeded when trying to connect",
    );
    expect(outageCause("not an error")).toBe("unknown");
  });
});
