/**
 * Payload validation shared by both transports: REST bodies and queries, socket event
 * payloads. A failed parse becomes a 422 with Laravel-style messages (PROTOCOL §2, §3).
 */
import type { z } from "zod";
import { AppError } from "../lib/app-error.js";

/**
 * Laravel's attribute wording (`Str::snake`, then `_` → space): `first_name` → `first name`,
 * `perPage` → `per page`, `pet.sex_type` → `pet.sex type`.
 */
function attribute(path: PropertyKey[]): string {
  return (
    path
      .map(String)
      .join(".")
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .toLowerCase()
      .replace(/_/g, " ") || "payload"
  );
}

const typeWords: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "an array",
};

/**
 * One Laravel-style sentence for a zod issue. Schemas may set a full sentence as a custom
 * message; `:attribute` in it (Laravel's placeholder) becomes the field's name, so one
 * schema reads right at any nesting (`weight` or `pet.weight`). A missing value is always
 * "required", whatever the custom message says.
 */
function sentence(issue: z.core.$ZodIssue): string {
  const field = attribute(issue.path);
  const input = (issue as { input?: unknown }).input;
  const missing = input === undefined || input === null || input === "";
  if (issue.message.includes(":attribute")) {
    return missing && issue.code !== "custom"
      ? `The ${field} field is required.`
      : issue.message.replaceAll(":attribute", field);
  }
  switch (issue.code) {
    case "invalid_type":
      return missing
        ? `The ${field} field is required.`
        : `The ${field} must be ${typeWords[issue.expected] ?? `a ${issue.expected}`}.`;
    case "invalid_value":
    case "invalid_union":
      return missing ? `The ${field} field is required.` : `The selected ${field} is invalid.`;
    case "invalid_format":
      if (missing) return `The ${field} field is required.`;
      if (issue.format === "email") return `The ${field} must be a valid email address.`;
      if (issue.format === "regex") return `The ${field} format is invalid.`;
      return `The ${field} must be a valid ${issue.format}.`;
    case "too_small":
      if (missing || (issue.origin === "string" && issue.minimum === 1)) return `The ${field} field is required.`;
      return issue.origin === "string"
        ? `The ${field} must be at least ${String(issue.minimum)} characters.`
        : `The ${field} must be at least ${String(issue.minimum)}.`;
    case "too_big":
      return issue.origin === "string"
        ? `The ${field} must not be greater than ${String(issue.maximum)} characters.`
        : `The ${field} must not be greater than ${String(issue.maximum)}.`;
    case "unrecognized_keys":
      return `The ${issue.keys.join(", ")} field is not allowed.`;
    case "custom":
      return issue.message;
    default:
      return `The ${field} is invalid.`;
  }
}

/** Laravel-style messages, one per failed field (the first issue of each path). */
export function validationMessages(error: z.ZodError): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(sentence(issue));
  }
  return out;
}

/** Parses `input` with `schema`, or throws a 422 {@link AppError} with one message per failed field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (!result.success) throw new AppError(422, validationMessages(result.error));
  return result.data;
}
