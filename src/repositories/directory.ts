import type { Clock } from "../lib/clock.js";
import type { Directory } from "../domain/ports.js";
import type { VetCard } from "../domain/types.js";
import { toPetJson, type PetRepository } from "./pets.js";
import { toUserSummary, type UserRepository, type UserRow } from "./users.js";
import { vetSkillsOf, type VetRecord, type VetRepository } from "./vets.js";

// Vet names and pictures change rarely; a short cache keeps them off the match path.
const VET_CACHE_MS = 30_000;

/** The engine's {@link Directory}, plus a hook to drop a vet from this node's cache. */
export interface CachingDirectory extends Directory {
  /** Drops the cached vet, so the next {@link Directory.vet} reads the database. */
  forgetVet(vetId: number): void;
}

/** A subscribed `protect_users` owner (PROTOCOL §4 priority; may ask for `emergency`). */
export function isProtectedOwner(user: Pick<UserRow, "role" | "status">): boolean {
  return user.role === "protect_users" && user.status === "subscribed";
}

/** The engine's {@link Directory} over the repositories. */
export function createDirectory(
  repos: { users: UserRepository; pets: PetRepository; vets: VetRepository },
  vetIdentity: (vetId: number) => string,
  clock: Clock,
): CachingDirectory {
  const vetCache = new Map<number, { at: number; vet: VetRecord | null }>();
  const loadVet = async (vetId: number, fresh: boolean): Promise<VetRecord | null> => {
    const hit = vetCache.get(vetId);
    if (!fresh && hit && clock.now() - hit.at < VET_CACHE_MS) return hit.vet;
    const vet = await repos.vets.findById(vetId);
    vetCache.set(vetId, { at: clock.now(), vet });
    return vet;
  };
  const card = (v: VetRecord): VetCard => ({
    id: vetIdentity(v.id),
    username: `${v.firstName} ${v.lastName}`.trim(),
    profile_image: v.profileImage,
  });
  return {
    async requestProfile(appId, userId, petId) {
      const found = await repos.pets.findWithOwner(appId, userId, petId);
      if (!found) return { missing: "user" };
      if (!found.pet) return { missing: "pet" };
      return {
        user: toUserSummary(found.user),
        pet: { ...toPetJson(found.pet) },
        protectedOwner: isProtectedOwner(found.user),
        region: found.user.region,
        historyCount: found.historyCount,
      };
    },
    async vet(vetId, opts) {
      const v = await loadVet(vetId, opts?.fresh === true);
      return v ? { card: card(v), firstName: v.firstName, lastName: v.lastName, skills: vetSkillsOf(v) } : null;
    },
    async vetIdByEmail(email) {
      return (await repos.vets.findByEmail(email))?.id ?? null;
    },
    forgetVet(vetId) {
      vetCache.delete(vetId);
    },
  };
}
