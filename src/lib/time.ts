/** `YYYY-MM-DD HH:mm:ss` in UTC, the timestamp format of the v2 reference. */
export function formatDateTime(d: Date | null | undefined): string | null {
  if (!d) return null;
  return d.toISOString().slice(0, 19).replace("T", " ");
}
