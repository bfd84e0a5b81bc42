/**
 * What an offer says about the request beyond owner and pet (PROTOCOL §4): `emergency` and
 * the owner's `language`. Shown as badges on the offer card and, after an accept, on the
 * consultation, whose payload lacks them: so the console keeps them per consultation in
 * sessionStorage, and a reload still shows them.
 */
import { h } from "../shared/dom.js";
import { languageName } from "../shared/format.js";

export interface RequestTags {
  emergency?: boolean;
  language?: string;
}

const KEY = "vet-console.tags";
/** Enough for the offers and consultations of one tab; the oldest entries go first. */
const KEEP = 20;

function load(): Record<string, RequestTags> {
  try {
    return (JSON.parse(sessionStorage.getItem(KEY) ?? "{}") as Record<string, RequestTags> | null) ?? {};
  } catch {
    return {};
  }
}

/** Keeps the tags of a consultation (from its offer) for its panel, also after a reload. */
export function rememberTags(id: string, tags: RequestTags): void {
  if (!tags.emergency && !tags.language) return;
  const all = load();
  delete all[id];
  all[id] = { emergency: tags.emergency === true, ...(tags.language ? { language: tags.language } : {}) };
  const ids = Object.keys(all);
  for (const old of ids.slice(0, Math.max(0, ids.length - KEEP))) delete all[old];
  try {
    sessionStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    /* storage full or blocked: the badges just will not survive a reload */
  }
}

/** The tags remembered for a consultation ({} when none). */
export function recallTags(id: string): RequestTags {
  return load()[id] ?? {};
}

/**
 * The "Emergency" and language badges; `prefix` names their test hooks (`offer-emergency`,
 * `consultation-language`, …). A language the vet does not list (the request waited past
 * `LANGUAGE_WAIT_MS`) is marked, so it is no surprise.
 */
export function tagBadges(tags: RequestTags, spoken: readonly string[] | undefined, prefix: "offer" | "consultation"): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (tags.emergency) out.push(h("span", { class: "badge emergency", "data-testid": `${prefix}-emergency`, title: "The owner asked for emergency handling" }, "Emergency"));
  if (tags.language) {
    const name = languageName(tags.language);
    const foreign = spoken !== undefined && spoken.length > 0 && !spoken.includes(tags.language);
    const title = foreign ? `The owner asked for ${name} (${tags.language}), which is not one of your languages` : `The owner asked for ${name} (${tags.language})`;
    out.push(
      h("span", { class: `badge lang${foreign ? " foreign" : ""}`, "data-testid": `${prefix}-language`, "data-language": tags.language, title }, name, foreign ? h("span", { class: "sr-only" }, ", not one of your languages") : null),
    );
  }
  return out;
}
