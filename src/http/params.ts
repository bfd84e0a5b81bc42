/** Path parameters of REST routes. */

const PG_INT_MAX = 2_147_483_647;

/** A path id (`/admin/v1/vets/{id}`): a positive PostgreSQL integer, else null (answer 404). */
export function idParam(raw: string): number | null {
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  return id >= 1 && id <= PG_INT_MAX ? id : null;
}
