/** The console's offer list order (web/console/offer-order.ts): emergency offers first, the newest first within each group. */
import { describe, expect, it } from "vitest";
import { offerInsertIndex } from "../../../web/console/offer-order.js";

/** Plays a sequence of arrivals through the rule and returns the list top to bottom. */
function arrive(...offers: { id: string; emergency: boolean }[]): string[] {
  const list: { id: string; emergency: boolean }[] = [];
  for (const o of offers)
    list.splice(
      offerInsertIndex(
        list.map((x) => x.emergency),
        o.emergency,
      ),
      0,
      o,
    );
  return list.map((x) => x.id);
}

describe("offer list order", () => {
  it("puts the first offer at the top of an empty list", () => {
    expect(offerInsertIndex([], false)).toBe(0);
    expect(offerInsertIndex([], true)).toBe(0);
  });

  it("puts emergency offers above the others, whatever their arrival", () => {
    expect(arrive({ id: "a", emergency: false }, { id: "b", emergency: true })).toEqual(["b", "a"]);
    expect(arrive({ id: "e", emergency: true }, { id: "n", emergency: false })).toEqual(["e", "n"]);
  });

  it("keeps the newest first within each group", () => {
    const order = arrive(
      { id: "n1", emergency: false },
      { id: "e1", emergency: true },
      { id: "n2", emergency: false },
      { id: "e2", emergency: true },
      { id: "n3", emergency: false },
    );
    expect(order).toEqual(["e2", "e1", "n3", "n2", "n1"]);
  });
});
