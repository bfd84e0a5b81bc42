import type { LiveConsultation, VetPresence, VetSkills } from "../../domain/types.js";

// The memory store's changes to a vet's presence; commands/includes/vets.lua has the same for Redis.

/** A vet the store has not seen before: offline and away, idle since `now`. */
export function offlineVet(vetId: number, now: number): VetPresence {
  return {
    vetId,
    status: "away",
    connections: 0,
    idleSince: now,
    offerConsultationId: null,
    activeConsultationIds: [],
    wrapupUntil: null,
    wrapupConsultationId: null,
  };
}

/** The vet holds `c` as active; a video is held alone (PROTOCOL §4 capacity per channel). */
export function holdActive(vet: VetPresence, c: LiveConsultation): void {
  vet.activeConsultationIds.push(c.id);
  if (c.type === "video") vet.holdsVideo = true;
}

export function dropActive(vet: VetPresence, c: LiveConsultation): void {
  vet.activeConsultationIds = vet.activeConsultationIds.filter((id) => id !== c.id);
  if (c.type === "video") delete vet.holdsVideo;
}

/**
 * Installs `skills` unless the vet holds a higher version (an operator's later change).
 * Equal versions replace: they are the same record. Skills stored without a version
 * (before versions existed) count as version 0.
 */
export function takeSkills(vet: VetPresence, skills: VetSkills): void {
  if ((vet.skills?.version ?? 0) > skills.version) return;
  vet.skills = structuredClone(skills);
}
