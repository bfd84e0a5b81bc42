/** The demo mode's fixed cast (PROTOCOL §8): one app, three vets, owners with pets. */

export const DEMO_APP_NAME = "demo";

/** A demo vet: login, names and routing skills (PROTOCOL §4). */
export interface DemoVet {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  /** Species treated; empty = every species. */
  species: readonly string[];
  languages: readonly string[];
  /** null = `VET_MAX_CONSULTS`. */
  maxChats: number | null;
  /** Where the vet may treat (PROTOCOL §4 licensing). */
  licenses: readonly string[];
}

/**
 * Vet `n` (1-based) logs in as `vet{n}@demo.test` with password `demo-vet-{n}`. Their skills
 * differ so the demo shows routing: Maya sees dogs and cats (English, Spanish, two chats at
 * once), Tom only birds and rabbits (English, German), Sofia every species (English, Italian).
 * Their licences differ too (seen with `LICENSING=on`): Maya treats in California and New
 * York, Tom in Great Britain and Germany, Sofia in Italy.
 */
export const DEMO_VETS: readonly DemoVet[] = [
  {
    email: "vet1@demo.test",
    password: "demo-vet-1",
    firstName: "Maya",
    lastName: "Patel",
    species: ["dog", "cat"],
    languages: ["en", "es"],
    maxChats: 2,
    licenses: ["US-CA", "US-NY"],
  },
  {
    email: "vet2@demo.test",
    password: "demo-vet-2",
    firstName: "Tom",
    lastName: "Becker",
    species: ["bird", "rabbit"],
    languages: ["en", "de"],
    maxChats: null,
    licenses: ["GB", "DE"],
  },
  {
    email: "vet3@demo.test",
    password: "demo-vet-3",
    firstName: "Sofia",
    lastName: "Rossi",
    species: [],
    languages: ["en", "it"],
    maxChats: null,
    licenses: ["IT"],
  },
];

export interface DemoPet {
  name: string;
  species: string;
  breed: string;
  age: string;
  weight: string;
  sex: string;
  color: string;
}

export interface DemoOwner {
  email: string;
  firstName: string;
  lastName: string;
  role: "users" | "protect_users";
  /** Where the owner's animals are (PROTOCOL §4). */
  region: string;
  pets: DemoPet[];
}

export const DEMO_OWNERS: readonly DemoOwner[] = [
  {
    email: "alice@demo.test",
    firstName: "Alice",
    lastName: "Martin",
    role: "users",
    region: "US-CA",
    pets: [
      {
        name: "Biscuit",
        species: "dog",
        breed: "Beagle",
        age: "3 years",
        weight: "22 lbs",
        sex: "male",
        color: "tricolor",
      },
      {
        name: "Miso",
        species: "cat",
        breed: "Siamese",
        age: "1 year 6 months",
        weight: "9 lbs",
        sex: "female",
        color: "seal point",
      },
    ],
  },
  {
    email: "ben@demo.test",
    firstName: "Ben",
    lastName: "Okafor",
    role: "users",
    region: "GB",
    pets: [
      {
        name: "Kiwi",
        species: "bird",
        breed: "Cockatiel",
        age: "8 months",
        weight: "1 lbs",
        sex: "male",
        color: "grey",
      },
    ],
  },
  {
    email: "carla@demo.test",
    firstName: "Carla",
    lastName: "Nguyen",
    role: "protect_users",
    region: "IT",
    pets: [
      {
        name: "Thumper",
        species: "rabbit",
        breed: "Holland Lop",
        age: "2 years",
        weight: "4 lbs",
        sex: "female",
        color: "white",
      },
      {
        name: "Rocky",
        species: "dog",
        breed: "Labrador Retriever",
        age: "7 years",
        weight: "70 lbs",
        sex: "male",
        color: "yellow",
      },
    ],
  },
];
