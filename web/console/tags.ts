/**
 * What the request says beyond owner and pet (PROTOCOL §4): `emergency` and the owner's
 * `language`. The offer, the accept, `consult:assigned` and `consult:state` all carry them,
 * so the badges on the offer card and on the consultation come from the payload at hand,
 * also after a reload or on another device.
 */
import { h } from "../shared/dom.js";
import { languageName } from "../shared/format.js";

export interface RequestTags {
  emergency?: boolean;
  language?: string;
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
