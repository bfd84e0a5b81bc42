/**
 * What the request says beyond owner and pet (PROTOCOL §4): `emergency`, the owner's
 * `language`, its `care` and `region`. The offer, the accept, `consult:assigned` and
 * `consult:state` all carry them, so the badges on the offer card and on the consultation
 * come from the payload at hand, also after a reload or on another device.
 */
import { h } from "../shared/dom.js";
import { languageName } from "../shared/format.js";

export interface RequestTags {
  emergency?: boolean;
  language?: string;
  /** `advice`: general advice only (absent in a payload from before licensing: treatment). */
  care?: "treatment" | "advice";
  region?: string | null;
}

/** What "Advice only" means, said where the vet reads it. */
export const ADVICE_ONLY_TEXT = "General advice only: no diagnosis and no prescription for this animal.";

/**
 * The "Advice only" banner of a consultation (PROTOCOL §4: where the vet cannot miss it),
 * or null for treatment. Names the region when known, since that is why.
 */
export function adviceBanner(tags: RequestTags): HTMLElement | null {
  if (tags.care !== "advice") return null;
  const where = tags.region ? ` The animal is in ${tags.region}.` : "";
  return h(
    "p",
    { class: "advice-banner", "data-testid": "care-advice", role: "note" },
    h("strong", {}, "Advice only. "),
    ADVICE_ONLY_TEXT + where,
  );
}

/**
 * The "Emergency" and language badges; `prefix` names their test hooks (`offer-emergency`,
 * `consultation-language`, …). A language the vet does not list (the request waited past
 * `LANGUAGE_WAIT_MS`) is marked, so it is no surprise.
 */
export function tagBadges(
  tags: RequestTags,
  spoken: readonly string[] | undefined,
  prefix: "offer" | "consultation",
): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (tags.care === "advice")
    out.push(
      h("span", { class: "badge advice", "data-testid": `${prefix}-advice`, title: ADVICE_ONLY_TEXT }, "Advice only"),
    );
  if (tags.emergency)
    out.push(
      h(
        "span",
        {
          class: "badge emergency",
          "data-testid": `${prefix}-emergency`,
          title: "The owner asked for emergency handling",
        },
        "Emergency",
      ),
    );
  if (tags.language) {
    const name = languageName(tags.language);
    const foreign = spoken !== undefined && spoken.length > 0 && !spoken.includes(tags.language);
    const title = foreign
      ? `The owner asked for ${name} (${tags.language}), which is not one of your languages`
      : `The owner asked for ${name} (${tags.language})`;
    out.push(
      h(
        "span",
        {
          class: `badge lang${foreign ? " foreign" : ""}`,
          "data-testid": `${prefix}-language`,
          "data-language": tags.language,
          title,
        },
        name,
        foreign ? h("span", { class: "sr-only" }, ", not one of your languages") : null,
      ),
    );
  }
  if (tags.region)
    out.push(
      h(
        "span",
        { class: "badge region", "data-testid": `${prefix}-region`, title: `The animal is in ${tags.region}` },
        tags.region,
      ),
    );
  return out;
}
