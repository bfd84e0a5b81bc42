/** The vet's own routing skills (PROTOCOL §4) under their name in the top bar: species, languages, chats at once. */
import { fill, h } from "../shared/dom.js";
import { languageName } from "../shared/format.js";
import type { VetInfo } from "./session.js";

/**
 * Fills `el` from the login answer. `defaultMax`: `VET_MAX_CONSULTS`, for a vet whose
 * `max_chats` is null. A session stored before skills existed shows nothing.
 */
export function renderSkills(el: HTMLElement, vet: VetInfo, defaultMax: number | undefined): void {
  if (!vet.languages) {
    fill(el);
    return;
  }
  const species = vet.species?.length ? vet.species.map((s) => s[0].toUpperCase() + s.slice(1)).join(", ") : "All species";
  const languages = vet.languages.map(languageName).join(", ");
  const max = vet.max_chats ?? defaultMax;
  // Short: the top bar has little room; the title says it in full.
  const chats = max === undefined ? "" : `${max} chat${max === 1 ? "" : "s"}`;
  el.title = `You treat: ${species}. You speak: ${languages}.${chats ? ` Up to ${chats} at once.` : ""} Requests reach you by these.`;
  fill(
    el,
    h("span", { "data-testid": "vet-species" }, species),
    " · ",
    h("span", { "data-testid": "vet-languages" }, languages),
    chats ? " · " : null,
    chats ? h("span", { "data-testid": "vet-max-chats" }, chats) : null,
  );
}
