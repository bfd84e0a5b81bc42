/**
 * Referrals in the console (PROTOCOL §10): the referral part of an offer card (from whom, and
 * the note) and the texts of a failed referral. The "Refer" dialog is `referral-dialog.ts`,
 * loaded when a vet first opens it (it is not needed to start the console).
 */
import type { OfferPayload } from "../../src/client/index.js";
import { h } from "../shared/dom.js";

/** The referral part of an offer card: from whom, and their note. */
export function offerReferral(o: OfferPayload): HTMLElement | null {
  if (!o.referral) return null;
  return h(
    "div",
    { class: "notice referral", "data-testid": "offer-referral" },
    h("strong", {}, `Referral from Dr. ${o.referral.from_vet.name}`),
    o.referral.note ? h("p", { class: "small", "data-testid": "offer-referral-note" }, o.referral.note) : null,
  );
}

export const TRANSFER_FAILED_TEXT: Record<string, string> = {
  declined: "The vet you named declined the referral.",
  missed: "The vet you named did not answer the referral.",
  timeout: "No vet accepted the referral in time.",
};
