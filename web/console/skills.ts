/** The vet's own routing skills (PROTOCOL §4) under their name in the top bar: species, languages, chats at once, licences. */
import { fill, h } from "../shared/dom.js";
import { languageName } from "../shared/format.js";
import type { VetInfo } from "./session.js";

/**
 * Fills `el` from the login answer. `defaultMax`: `VET_MAX_CONSULTS`, for a vet whose
 * `max_chats` is null. `licensing`: the gateway routes treatment by licence, so the vet's
 * licences say what reaches them (without it they are shown only when set). A session
 * stored before skills existed shows nothing.
 */
export function renderSkills(el: HTMLElement, vet: VetInfo, defaultMax: number | undefined, licensing = false): void {
  if (!vet.languages) {
    fill(el);
    return;
  }
  const species = vet.species?.length
    ? vet.species.map((s) => s[0].toUpperCase() + s.slice(1)).join(", ")
    : "All species";
  const languages = vet.languages.map(languageName).join(", ");
  const max = vet.max_chats ?? defaultMax;
  // Short: the top bar has little room; the title says it in full.
  const chats = max === undefined ? "" : `${max} chat${max === 1 ? "" : "s"}`;
  const licenses = vet.licenses ?? [];
  // Shown when they matter: with licensing on, a vet licensed nowhere gets advice requests only.
  const licensed = licenses.length ? `Licensed: ${licenses.join(", ")}` : licensing ? "Advice only (no licence)" : "";
  el.title =
    `You treat: ${species}. You speak: ${languages}.${chats ? ` Up to ${chats} at once.` : ""}` +
    `${licensed ? ` ${licenses.length ? `You may treat animals in ${licenses.join(", ")}.` : "You hold no licence: only advice requests reach you."}` : ""} Requests reach you by these.`;
  fill(
    el,
    h("span", { "data-testid": "vet-species" }, species),
    " · ",
    h("span", { "data-testid": "vet-languages" }, languages),
    chats ? " · " : null,
    chats ? h("span", { "data-testid": "vet-max-chats" }, chats) : null,
    // A line of its own: with licensing it decides what reaches the vet, so it is never cut off behind the others.
    licensed ? h("span", { class: "licenses", "data-testid": "vet-licenses" }, licensed) : null,
  );
}
