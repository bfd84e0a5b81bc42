import type { Clock } from "../lib/clock.js";
import type { Directory } from "../domain/ports.js";
import type { VetCard } from "../domain/types.js";
import { toPetJson, type PetRepository } from "./pets.js";
import { toUserSummary, type UserRepository } from "./users.js";
import type { VetRecord, VetRepository } from "./vets.js";

// Vet names and pictures change rarely; a short cache keeps them off the match path.
const VET_CACHE_MS = 30_000;

/** The engine's {@link Directory} over the repositories. */
export function createDirectory(
  repos: { users: UserRepository; pets: PetRepository; vets: VetRepository },
  vetIdentity: (vetId: number) => string,
  clock: Clock,
): Directory {
  const vetCache = new Map<number, { at: number; vet: VetRecord | null }>();
  const loadVet = async (vetId: number): Promise<VetRecord | null> => {
    const hit = vetCache.get(vetId);
    if (hit && clock.now() - hit.at < VET_CACHE_MS) return hit.vet;
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
      return { user: toUserSummary(found.user), pet: { ...toPetJson(found.pet) } };
    },
    async vet(vetId) {
      const v = await loadVet(vetId);
      // Skills arrive with the vet attributes (PROTOCOL §4); until stored, the defaults.
      return v ? { card: card(v), firstName: v.firstName, lastName: v.lastName, skills: { species: [], languages: ["en"], maxChats: null } } : null;
    },
    async vetIdByEmail(email) {
      return (await repos.vets.findByEmail(email))?.id ?? null;
    },
  };
}
