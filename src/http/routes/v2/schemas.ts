/**
 * One zod schema per v2 endpoint. Messages are Laravel's wording, one per failed field
 * (see `validation.ts`; `:attribute` in a custom message becomes the field name).
 * Values arrive as JSON, urlencoded or multipart strings, or query strings, so numbers and
 * flags also accept their string forms.
 */
import { z } from "zod";
import { INVALID_REGION, isIsoRegion } from "../../../lib/regions.js";
import { languageCodeSchema } from "../../../protocol/languages.js";
import { careSchema, regionSchema } from "../../../protocol/payloads.js";
import type { PetFields } from "../../../repositories/pets.js";

/** PostgreSQL `integer` ceiling: larger ids or funds must be a 422, not a database error. */
const PG_INT_MAX = 2_147_483_647;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Integer-looking strings become numbers; anything else is left for the schema to refuse. */
function toInt(v: unknown): unknown {
  if (typeof v === "string" && /^\s*-?\d{1,16}\s*$/.test(v)) return Number(v);
  return v;
}

/** Query and form fields often arrive as "" for "not given". */
function blankToUndefined(v: unknown): unknown {
  return v === "" || v === null ? undefined : v;
}

const int = (min: number, max = PG_INT_MAX) =>
  z.preprocess(
    toInt,
    z
      .int({ error: "The :attribute must be an integer." })
      .min(min, { error: `The :attribute must be at least ${String(min)}.` })
      .max(max, { error: `The :attribute must not be greater than ${String(max)}.` }),
  );

// PostgreSQL text cannot hold NUL; refusing it here keeps such input a 422, not a 500.
const hasNoNul = (v: string) => !v.includes("\0");
const noNul = { error: "The :attribute must not contain NUL characters." };

/** A trimmed string without NUL characters. */
const text = (max = 255) => z.string().trim().max(max).refine(hasNoNul, noNul);

/** A required, trimmed, non-empty string. */
const requiredString = (max = 255) => text(max).min(1);

/** An optional string; "" and null are stored as null. */
const optionalString = (max = 255) =>
  text(max)
    .nullish()
    .transform((v) => (v === "" ? null : v));

const email = z.preprocess(
  (v) => (typeof v === "string" ? v.trim() : v),
  z.email({ error: "The :attribute must be a valid email address." }).max(255),
);

/** `1`, `0`, `true`, `false` (Laravel's `boolean` rule), as JSON or strings. */
export const flag = z.preprocess(
  (v) => {
    if (v === "" || v === undefined || v === null) return undefined;
    if (v === true || v === 1 || v === "1" || v === "true") return true;
    if (v === false || v === 0 || v === "0" || v === "false") return false;
    return v;
  },
  z.boolean({ error: "The :attribute field must be true or false." }).optional(),
);

/** An optional ISO 639-1 code (PROTOCOL §4 `language`); "" counts as not given. */
export const optionalLanguage = z.preprocess(blankToUndefined, languageCodeSchema.optional());

/** An ISO 3166 country or subdivision code that ISO 3166 has (PROTOCOL §4), upper case. */
const isoRegion = regionSchema.refine(isIsoRegion, { error: INVALID_REGION });

/** An optional region; "" and null count as not given. */
export const optionalRegion = z.preprocess(blankToUndefined, isoRegion.optional());

/** A region to set, or "" / null to clear it (update-user); absent keeps it. */
const settableRegion = z.preprocess((v) => (v === "" ? null : v), isoRegion.nullish());

/** `treatment` (default) or `advice` (PROTOCOL §4); "" counts as not given. */
export const optionalCare = z.preprocess(blankToUndefined, careSchema.optional());

const page = z.preprocess(blankToUndefined, int(1).default(1));
const perPage = z.preprocess(blankToUndefined, int(1, 100).default(10));

/** `YYYY-MM-DD`, a real calendar date; the output is that day's UTC midnight. */
const isoDate = z.preprocess(
  blankToUndefined,
  z
    .string({ error: "The :attribute does not match the format Y-m-d." })
    .transform((v, ctx) => {
      const m = DATE_RE.exec(v.trim());
      const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
      // Date.UTC rolls 2024-02-30 over and maps years 0–99 to 19xx: compare every part back.
      if (
        !m ||
        !d ||
        d.getUTCFullYear() !== Number(m[1]) ||
        d.getUTCMonth() !== Number(m[2]) - 1 ||
        d.getUTCDate() !== Number(m[3])
      ) {
        ctx.addIssue({ code: "custom", message: "The :attribute does not match the format Y-m-d.", input: v });
        return z.NEVER;
      }
      return d;
    })
    .optional(),
);

const AGE_MESSAGE = "The :attribute must read N year(s), N year(s) M month(s) or M month(s).";
const AGE_RE = /^(?:(\d{1,2})\s+years?(?:\s+(\d{1,2})\s+months?)?|(\d{1,3})\s+months?)$/i;

/**
 * `N year(s)`, `N year(s) M month(s)` or `M month(s)` (months 0–11 beside years), stored
 * in the canonical spelling, e.g. `"1 year 2 months"`.
 */
const age = z.preprocess(
  blankToUndefined,
  z
    .string({ error: AGE_MESSAGE })
    .transform((v, ctx) => {
      const m = AGE_RE.exec(v.trim().replace(/\s+/g, " "));
      const unit = (n: number, word: string) => `${String(n)} ${word}${n === 1 ? "" : "s"}`;
      if (m?.[1] !== undefined) {
        const years = Number(m[1]);
        if (m[2] === undefined) return unit(years, "year");
        const months = Number(m[2]);
        if (months <= 11) return `${unit(years, "year")} ${unit(months, "month")}`;
      } else if (m?.[3] !== undefined) {
        return unit(Number(m[3]), "month");
      }
      ctx.addIssue({ code: "custom", message: AGE_MESSAGE, input: v });
      return z.NEVER;
    })
    .nullish(),
);

const WEIGHT_MESSAGE = "The :attribute must read N lbs, e.g. 10 lbs.";

/** `N lbs`; a bare number (JSON or string) is taken as lbs. Stored as `"N lbs"`. */
const weight = z.preprocess(
  (v) => {
    if (v === "" || v === null || v === undefined) return undefined;
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) return `${String(v)} lbs`;
    if (typeof v !== "string") return v;
    const m = /^(\d{1,5}(?:\.\d{1,3})?)\s*(lbs?)?$/i.exec(v.trim());
    return m ? `${String(Number(m[1]))} lbs` : v;
  },
  z
    .string({ error: WEIGHT_MESSAGE })
    .regex(/^\d+(\.\d+)? lbs$/, { error: WEIGHT_MESSAGE })
    .optional(),
);

/** The optional pet fields shared by add and update. */
const optionalPetShape = {
  species: optionalString(),
  age,
  breed: optionalString(),
  color: optionalString(),
  weight,
  sex: optionalString(50),
  sex_type: optionalString(50),
};

const petCreate = z.object({ name: requiredString(), ...optionalPetShape });
const petUpdate = z.object({ name: requiredString().optional(), ...optionalPetShape });

type PetInput = z.output<typeof petUpdate>;

/** snake_case pet input → repository fields (the caller adds `name` where it is required). */
export function petFields(p: PetInput): PetFields {
  return {
    name: p.name,
    species: p.species,
    age: p.age,
    breed: p.breed,
    color: p.color,
    weight: p.weight,
    sex: p.sex,
    sexType: p.sex_type,
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const registerUserSchema = z
  .object({
    first_name: requiredString(),
    last_name: optionalString(),
    email,
    phone_no: optionalString(50),
    role: z.enum(["users", "protect_users"]),
    emergency_fund: z.preprocess(blankToUndefined, int(0).optional()),
    dev_type: z.preprocess(blankToUndefined, z.enum(["android", "ios", "web"]).optional()),
    pet: petCreate.optional(),
    region: optionalRegion,
  })
  // Runs even when other fields failed, so one response lists every problem.
  .superRefine(
    (v, ctx) => {
      const raw = v as { role?: unknown; emergency_fund?: unknown };
      if (
        raw.role === "protect_users" &&
        (raw.emergency_fund === undefined || raw.emergency_fund === null || raw.emergency_fund === "")
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["emergency_fund"],
          message: "The emergency fund field is required when role is protect_users.",
        });
      }
    },
    { when: () => true },
  );

/**
 * `email` and the pet fields, flat as the reference documents them; a `pet` object
 * (`pet[name]`… in multipart forms) is accepted too and takes precedence.
 */
export const petAddSchema = z.preprocess(
  (v) => (isPlainObject(v) && isPlainObject(v.pet) ? { ...v, ...v.pet } : v),
  z.object({ email, ...petCreate.shape }),
);

/** The fields of {@link petAddSchema} (for the multipart form's documentation). */
export const petAddFields = petAddSchema.def.out;

export const petUpdateSchema = z.object({
  email,
  pet_id: int(1),
  pet: petUpdate.prefault({}),
});

export const petRemoveSchema = z.object({ email, pet_id: int(1) });

export const petListSchema = z.object({
  email,
  search_value: z.preprocess(blankToUndefined, text().optional()),
  search_by: z.preprocess(blankToUndefined, z.enum(["name", "species", "breed", "color"]).default("name")),
  pagination: flag,
  page,
  perPage,
});

export const reportSchema = z
  .object({
    date_from: isoDate,
    date_to: isoDate,
    search_value: z.preprocess(blankToUndefined, text().optional()),
    status: z.preprocess(blankToUndefined, z.enum(["subscribed", "cancelled"]).optional()),
    selectedProtect: z.preprocess(blankToUndefined, z.enum(["users", "protect_users"]).optional()),
    pagination: flag,
    page,
    perPage,
  })
  .superRefine((v, ctx) => {
    if (v.date_from && v.date_to && v.date_to < v.date_from) {
      ctx.addIssue({
        code: "custom",
        path: ["date_to"],
        message: "The date to must be a date after or equal to date from.",
      });
    }
  });

export const actionsSchema = z.object({
  email,
  first_name: z.preprocess(blankToUndefined, requiredString().optional()),
  last_name: optionalString(),
  role: z.preprocess(blankToUndefined, z.enum(["users", "protect_users"]).optional()),
  status: z.preprocess(blankToUndefined, z.enum(["subscribed", "cancelled"]).optional()),
  emergency_fund: z.preprocess(blankToUndefined, int(0).optional()),
});

/**
 * `update-user` (PROTOCOL §4): the owner's profile fields; absent ones keep their value,
 * `last_name`, `phone_no` and `region` clear with "" or null. Role, status and fund stay
 * with `actions`.
 */
export const updateUserSchema = z.object({
  email,
  first_name: z.preprocess(blankToUndefined, requiredString().optional()),
  last_name: optionalString(),
  phone_no: optionalString(50),
  dev_type: z.preprocess(blankToUndefined, z.enum(["android", "ios", "web"]).optional()),
  region: settableRegion,
});

export const deleteUserSchema = z.object({ email, app_id: int(1) });

export const refreshSchema = z.object({
  identity: requiredString(),
  dev_type: z.preprocess(blankToUndefined, z.enum(["android", "ios", "web"]).optional()),
});

export const socketTokenSchema = z.object({ email });
