/** Consultation outcomes (PROTOCOL §10): readable names for the default `OUTCOMES`; any other shows its id. */

const LABELS: Record<string, string> = {
  resolved: "Resolved",
  follow_up: "Follow-up needed",
  clinic_visit: "Clinic visit advised",
  emergency_referral: "Emergency referral",
  no_show: "Owner did not show",
  other: "Other",
};

/** What the default list is when the gateway does not say (an older gateway). */
export const FALLBACK_OUTCOMES = Object.keys(LABELS);

/** The readable name of an outcome id: a known one's label, else the id itself. */
export function outcomeLabel(id: string): string {
  return LABELS[id] ?? id;
}
