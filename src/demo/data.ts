/** The demo mode's fixed cast (PROTOCOL §8): one app, three vets, owners with pets. */

export const DEMO_APP_NAME = "demo";

/** Vet `n` (1-based) logs in as `vet{n}@demo.test` with password `demo-vet-{n}`. */
export const DEMO_VETS = [
  { email: "vet1@demo.test", password: "demo-vet-1", firstName: "Maya", lastName: "Patel" },
  { email: "vet2@demo.test", password: "demo-vet-2", firstName: "Tom", lastName: "Becker" },
  { email: "vet3@demo.test", password: "demo-vet-3", firstName: "Sofia", lastName: "Rossi" },
] as const;

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
  pets: DemoPet[];
}

export const DEMO_OWNERS: readonly DemoOwner[] = [
  {
    email: "alice@demo.test",
    firstName: "Alice",
    lastName: "Martin",
    role: "users",
    pets: [
      { name: "Biscuit", species: "dog", breed: "Beagle", age: "3 years", weight: "22 lbs", sex: "male", color: "tricolor" },
      { name: "Miso", species: "cat", breed: "Siamese", age: "1 year 6 months", weight: "9 lbs", sex: "female", color: "seal point" },
    ],
  },
  {
    email: "ben@demo.test",
    firstName: "Ben",
    lastName: "Okafor",
    role: "users",
    pets: [{ name: "Kiwi", species: "bird", breed: "Cockatiel", age: "8 months", weight: "1 lbs", sex: "male", color: "grey" }],
  },
  {
    email: "carla@demo.test",
    firstName: "Carla",
    lastName: "Nguyen",
    role: "protect_users",
    pets: [
      { name: "Thumper", species: "rabbit", breed: "Holland Lop", age: "2 years", weight: "4 lbs", sex: "female", color: "white" },
      { name: "Rocky", species: "dog", breed: "Labrador Retriever", age: "7 years", weight: "70 lbs", sex: "male", color: "yellow" },
    ],
  },
];
