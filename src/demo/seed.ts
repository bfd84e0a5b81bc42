/**
 * Seeds the demo cast (`DEMO=1`). Idempotent: what exists is kept, what is missing is
 * added, so restarts and several nodes starting together converge on the same data.
 */
import { randomBytes } from "node:crypto";
import type { Repositories } from "../repositories/index.js";
import type { AppRecord } from "../repositories/apps.js";
import type { PetRow } from "../repositories/pets.js";
import type { VetRecord } from "../repositories/vets.js";
import type { UserRow } from "../repositories/users.js";
import { AppError } from "../lib/app-error.js";
import type { Logger } from "../lib/logger.js";
import { DEMO_APP_NAME, DEMO_OWNERS, DEMO_VETS } from "./data.js";

export interface SeededDemo {
  app: AppRecord;
  vets: VetRecord[];
  owners: Array<{ user: UserRow; pets: PetRow[] }>;
}

/** Runs `create`; on a 409 (another node created it first) returns `find()` instead. */
async function findOrCreate<T>(find: () => Promise<T | null>, create: () => Promise<T>): Promise<T> {
  const found = await find();
  if (found) return found;
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof AppError && err.status === 409)) throw err;
    const raced = await find();
    if (!raced) throw err;
    return raced;
  }
}

const hasDefaultSkills = (s: { species: string[]; languages: string[]; maxChats: number | null }) =>
  s.species.length === 0 && s.languages.length === 1 && s.languages[0] === "en" && s.maxChats === null;

/**
 * Seeds the demo cast, every record marked as a demo record (PROTOCOL §7: with demo mode off
 * they cannot log in, connect or get offers).
 */
export async function seedDemo(repos: Repositories, now: Date): Promise<SeededDemo> {
  // The demo app's REST secret is random and never shown: the demo page needs only
  // /demo/v1/owner-token.
  const app = await findOrCreate(
    () => repos.apps.findByName(DEMO_APP_NAME),
    () => repos.apps.create({ name: DEMO_APP_NAME, secret: randomBytes(24).toString("hex"), demo: true }),
  );
  const vets: VetRecord[] = [];
  for (const v of DEMO_VETS) {
    const skills = { species: [...v.species], languages: [...v.languages], maxChats: v.maxChats };
    let vet = await findOrCreate(
      () => repos.vets.findByEmail(v.email),
      () =>
        repos.vets.create({
          email: v.email,
          password: v.password,
          firstName: v.firstName,
          lastName: v.lastName,
          ...skills,
          licenses: [...v.licenses],
        }),
    );
    // A demo vet seeded before skills existed still has the defaults: give it its skills.
    if (hasDefaultSkills(vet) && !hasDefaultSkills(skills)) vet = (await repos.vets.update(vet.id, skills)) ?? vet;
    // Likewise a demo vet seeded before licensing: its licences.
    if (vet.licenses.length === 0 && v.licenses.length > 0)
      vet = (await repos.vets.update(vet.id, { licenses: [...v.licenses] })) ?? vet;
    if (!vet.demo) await repos.vets.markDemo(vet.id);
    vets.push({ ...vet, demo: true });
  }
  const owners: SeededDemo["owners"] = [];
  for (const o of DEMO_OWNERS) {
    let user = await findOrCreate(
      () => repos.users.findActiveByEmail(app.id, o.email),
      async () =>
        (
          await repos.users.register(
            app.id,
            {
              email: o.email,
              firstName: o.firstName,
              lastName: o.lastName,
              role: o.role,
              emergencyFund: o.role === "protect_users" ? 500 : 0,
              region: o.region,
            },
            now,
          )
        ).user,
    );
    // A demo owner seeded before licensing has no region yet.
    if (user.region === null)
      user = (await repos.users.updateProfile(app.id, user.id, { region: o.region }, now)) ?? user;
    if (!user.demo) await repos.users.markDemo(app.id, user.id);
    const pets = (await repos.pets.listByOwnerEmail(app.id, o.email)) ?? [];
    for (const p of o.pets) {
      if (pets.some((have) => have.name === p.name)) continue;
      pets.push(await repos.pets.create(app.id, user.id, p, now));
    }
    owners.push({
      user: { ...user, demo: true },
      pets: pets.filter((have) => o.pets.some((p) => p.name === have.name)),
    });
  }
  return { app, vets, owners };
}

/**
 * Demo mode's start: seeds the cast, and warns when the database also holds real vets or
 * apps, so demo mode and real data never mix silently (the demo logins are published).
 */
export async function startDemo(repos: Repositories, logger: Logger, now: Date): Promise<SeededDemo> {
  const seeded = await seedDemo(repos, now);
  const [vets, apps] = await Promise.all([repos.vets.countReal(), repos.apps.countReal()]);
  if (vets > 0 || apps > 0) {
    logger.warn(
      { realVets: vets, realApps: apps },
      `demo mode on a database with real records (${String(vets)} vets, ${String(apps)} apps): demo logins are published; use another DATA_DIR or DATABASE_URL for the demo`,
    );
  }
  return seeded;
}
