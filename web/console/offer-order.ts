/** Where offer cards go in the list: no DOM here, so the rule is unit-tested (test/web/console/offer-order.test.ts). */

/**
 * The index (0 = top) at which a new card goes among the shown cards, given whether each shown
 * card is an emergency: emergency offers above the rest, the newest first within each group.
 */
export function offerInsertIndex(shownEmergency: readonly boolean[], emergency: boolean): number {
  if (emergency) return 0;
  const firstOther = shownEmergency.indexOf(false);
  return firstOther === -1 ? shownEmergency.length : firstOther;
}
