import { describe, expect, it } from "vitest";
import { parseIdentity, userIdentity, vetIdentity } from "../../src/twilio/identity.js";

describe("twilio identities", () => {
  it("formats the exact shapes of PROTOCOL §1", () => {
    expect(userIdentity("local", 5, 3572)).toBe("local-app-5_user-3572");
    expect(userIdentity("eu-prod", 12, 0)).toBe("eu-prod-app-12_user-0");
    expect(vetIdentity(1, 42)).toBe("app-1_vet-42");
  });

  it("parses what it formats", () => {
    expect(parseIdentity("local-app-5_user-3572")).toEqual({ kind: "user", prefix: "local", appId: 5, userId: 3572 });
    expect(parseIdentity("eu-prod-app-12_user-9")).toEqual({ kind: "user", prefix: "eu-prod", appId: 12, userId: 9 });
    expect(parseIdentity("app-1_vet-42")).toEqual({ kind: "vet", appId: 1, vetId: 42 });
    for (const s of [userIdentity("a.b_c", 7, 8), vetIdentity(3, 9)]) {
      const p = parseIdentity(s)!;
      expect(p.kind === "vet" ? vetIdentity(p.appId, p.vetId) : userIdentity(p.prefix, p.appId, p.userId)).toBe(s);
    }
  });

  it.each([
    "",
    "local",
    "local-app-5_user-",
    "local-app-_user-3",
    "local-app-5-user-3",
    "-app-5_user-3",
    "local-app-05_user-3",
    "local-app-5_user-3 ",
    " local-app-5_user-3",
    "local-app-5_user-3\n",
    "local-app-5_user-3x",
    "local app-5_user-3",
    "local-app-5_user--3",
    "local-app-1.5_user-3",
    "local-app-5_vet-3",
    "app-1_vet-",
    "app-1_vet-2_vet-3",
    "app-x_vet-2",
    "APP-1_vet-2",
    "prefix-app-1_vet-2",
    "app-1_user-2",
    "local-app-99999999999999999_user-1",
    "app-9999999999999999_vet-1",
  ])("rejects %j", (s) => {
    expect(parseIdentity(s)).toBeNull();
  });

  it("refuses to format junk", () => {
    expect(() => userIdentity("", 1, 1)).toThrow(RangeError);
    expect(() => userIdentity("has space", 1, 1)).toThrow(RangeError);
    expect(() => userIdentity("-lead", 1, 1)).toThrow(RangeError);
    expect(() => userIdentity("local", -1, 1)).toThrow(RangeError);
    expect(() => userIdentity("local", 1, 1.5)).toThrow(RangeError);
    expect(() => vetIdentity(Number.NaN, 1)).toThrow(RangeError);
    expect(() => vetIdentity(1, 2 ** 53)).toThrow(RangeError);
  });
});
