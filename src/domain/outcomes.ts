/**
 * Consultation outcomes (PROTOCOL §10): what the vet says came of a consultation, given with
 * the feedback. The list is a setting (`OUTCOMES`); the domain checks feedback against it.
 */
import { AppError } from "../lib/app-error.js";

/** `OUTCOMES` when unset. */
export const DEFAULT_OUTCOMES: readonly string[] = [
  "resolved",
  "follow_up",
  "clinic_visit",
  "emergency_referral",
  "no_show",
  "other",
];

/** An outcome id: a lower-case identifier (letters, digits, `_`; starts with a letter; at most 64). */
export const OUTCOME_ID = /^[a-z][a-z0-9_]{0,63}$/;

/** `outcome` if it is one of `allowed`, else a 422 with the Laravel-style message. */
export function checkOutcome(outcome: string, allowed: readonly string[]): string {
  if (!allowed.includes(outcome)) throw new AppError(422, "The selected outcome is invalid.");
  return outcome;
}
