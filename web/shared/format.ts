/** Display formatting shared by the pages. */

/** `m:ss` for a number of milliseconds (never negative). */
export function clock(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "about 2 min" / "under a minute" for a wait in seconds. */
export function wait(seconds: number): string {
  if (seconds < 60) return "under a minute";
  const m = Math.round(seconds / 60);
  return `about ${m} min`;
}

const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** A person's display name from `{first_name, last_name}` (or `username`). */
export function personName(p: Record<string, unknown> | null | undefined): string {
  if (!p) return "Unknown";
  const full = [str(p.first_name), str(p.last_name)].filter(Boolean).join(" ");
  return full || str(p.username) || str(p.email) || "Unknown";
}

/** A string field of a loosely typed record, or "" when absent. */
export function field(p: Record<string, unknown> | null | undefined, key: string): string {
  return p ? str(p[key]) : "";
}

/** First letter for an avatar placeholder. */
export function initial(name: string): string {
  return (name.trim()[0] ?? "?").toUpperCase();
}

/** Only same-origin or relative image URLs are shown: pages never request another host. */
export function sameOriginUrl(url: unknown): string | null {
  if (typeof url !== "string" || !url) return null;
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.href : null;
  } catch {
    return null;
  }
}

let languageNames: Intl.DisplayNames | null | undefined;

/** "Spanish" for `es`, in the page's language (`Intl.DisplayNames`); the code itself when the browser cannot name it. */
export function languageName(code: string): string {
  if (languageNames === undefined) {
    try {
      languageNames = new Intl.DisplayNames([document.documentElement.lang || "en"], {
        type: "language",
        fallback: "code",
      });
    } catch {
      languageNames = null;
    }
  }
  try {
    return languageNames?.of(code) ?? code;
  } catch {
    // A malformed code (RangeError): shown as it came.
    return code;
  }
}
