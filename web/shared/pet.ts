/** Pet and person blocks shared by the console and the demo. */
import { h } from "./dom.js";
import { field, initial, sameOriginUrl } from "./format.js";

type Rec = Record<string, unknown> | null | undefined;

/** A photo (same origin only) or a letter placeholder. */
export function avatar(url: unknown, name: string, cls = ""): HTMLElement {
  const src = sameOriginUrl(url);
  if (src) return h("img", { class: `avatar ${cls}`, src, alt: name });
  return h("span", { class: `avatar ${cls}`, "aria-hidden": "true" }, initial(name));
}

/** "Dog · Beagle · 3 years · 22 lbs" (only the known parts). */
export function petLine(pet: Rec): string {
  return ["species", "breed", "age", "weight"]
    .map((k) => field(pet, k))
    .filter(Boolean)
    .map((v, i) => (i === 0 ? v[0].toUpperCase() + v.slice(1) : v))
    .join(" · ");
}

/** Photo, name and the species/breed/age/weight line of a pet. */
export function petSummary(pet: Rec): HTMLElement {
  const name = field(pet, "name") || "Pet";
  return h(
    "div",
    { class: "pet" },
    avatar(pet?.profile, name),
    h(
      "div",
      {},
      h("div", { class: "pet-name" }, name),
      h("div", { class: "muted small" }, petLine(pet) || "No details"),
    ),
  );
}
