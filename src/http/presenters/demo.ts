/** JSON presenters of `/demo/v1` (demo mode): the demo owners with their pets, and the demo vets. */
import type { z } from "zod";
import type { PetRow } from "../../repositories/pets.js";
import type { users } from "../../db/schema.js";
import type { demoOwnerJsonSchema, demoVetJsonSchema } from "./schemas.js";

type UserRow = typeof users.$inferSelect;

/** A demo owner and the pets the demo page lets them pick. */
export const demoOwnerJson = (u: UserRow, pets: PetRow[]): z.output<typeof demoOwnerJsonSchema> => ({
  email: u.email,
  first_name: u.firstName,
  last_name: u.lastName,
  role: u.role,
  region: u.region,
  pets: pets.map((p) => ({
    id: p.id,
    name: p.name,
    species: p.species,
    breed: p.breed,
    age: p.age,
    weight: p.weight,
    sex: p.sex,
    color: p.color,
    profile: p.profile,
  })),
});

/** A demo vet: who the demo owner may ask for. */
export const demoVetJson = (v: {
  email: string;
  firstName: string;
  lastName: string;
  species: readonly string[];
  languages: readonly string[];
  licenses: readonly string[];
}): z.output<typeof demoVetJsonSchema> => ({
  email: v.email,
  first_name: v.firstName,
  last_name: v.lastName,
  species: [...v.species],
  languages: [...v.languages],
  licenses: [...v.licenses],
});
