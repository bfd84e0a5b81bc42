/**
 * The ledger's writes as fixed SQL statements, prepared once per connection on
 * PostgreSQL (`ConsultationLedger` in ledger.ts runs them).
 */
import type { Statement } from "../db/database.js";
import type { TransitionPatch } from "../domain/ports.js";
import type { ConsultationStatus } from "../domain/types.js";

/** Statuses a consultation never leaves. */
const TERMINAL = new Set<ConsultationStatus>(["ended", "cancelled", "expired"]);

/** Timestamps go over the wire as ISO text: cheaper than the driver's local-time formatting. */
export const iso = (ms: number) => new Date(ms).toISOString();

const statement = (name: string, text: string): Statement => ({ name: `ledger_${name}`, text });

// The ledger writes are a few fixed statements, prepared once per connection on PostgreSQL.
// Casts are explicit so that PostgreSQL infers the same parameter types on every driver.

/**
 * A webhook outbox row (PROTOCOL §9) for each row of `source` (a CTE with `id`, `app_id`)
 * whose app has a webhook URL: `type` (SQL) happened at `at`. Written in the statement that
 * records the change it reports, so the two land together or not at all.
 */
const outboxInsert = (source: string, type: string, at: string, where = "true") =>
  `insert into webhook_outbox (app_id, consultation_id, type, occurred_at, next_attempt_at)
   select s.app_id, s.id, ${type}, ${at}, ${at}
   from ${source} s join apps a on a.id = s.app_id and a.webhook_url is not null
   where ${where}`;

export const CREATE = statement(
  "create",
  `with row as (
     insert into consultations
       (id, app_id, user_id, pet_id, type, source, status, requested_vet_id, vet_id,
        channel_sid, room_sid, created_at, accepted_at, updated_at, language, emergency, species, priority,
        region, care, advice_fallback)
     values ($1::uuid, $2::integer, $3::integer, $4::integer, $5::text, $6::text, $7::text,
        $8::integer, $9::integer, $10::text, $11::text, $12::timestamptz, $13::timestamptz, $12::timestamptz,
        $15::text, $16::boolean, $17::text, $18::text, $19::text, $20::text, $21::boolean)
     returning id, app_id),
   spell as (
     insert into consultation_vets (consultation_id, vet_id, joined_at)
     select id, $9::integer, coalesce($13::timestamptz, $12::timestamptz) from row where $7::text = 'active' and $9::integer is not null),
   hook as (
     ${outboxInsert("row", "case when $7::text = 'active' then 'consultation.matched' else 'consultation.queued' end", "coalesce($13::timestamptz, $12::timestamptz)", "$7::text in ('queued', 'active')")})
   insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select id, null, $7::text, $14::jsonb, $12::timestamptz from row`,
);

/** Parameters $1–$10 of every transition statement, in order. */
export function transitionValues(
  id: string,
  to: ConsultationStatus,
  atMs: number,
  patch: TransitionPatch,
  detail: Record<string, unknown> | undefined,
): unknown[] {
  return [
    id,
    to,
    iso(atMs),
    TERMINAL.has(to),
    detail ? JSON.stringify(detail) : null,
    patch.vetId ?? null,
    patch.channelSid ?? null,
    patch.roomSid ?? null,
    patch.endedBy ?? null,
    patch.endReason ?? null,
  ];
}

/**
 * Appends the event and applies the transition ($1 id, $2 status, $3 at, $4 terminal,
 * $5 detail, $6–$10 patch). The status moves only forward in time (`updated_at`) and never
 * out of a terminal status, because writes from several nodes can land out of order; patch
 * fields (vet, SIDs, end details) always apply. `cte` runs in the same statement.
 *
 * When the transition applies it also keeps the vets' spells (a vet who takes the
 * consultation starts one; leaving it, by a hand-over back to the queue or its end, closes
 * it) and writes the webhook outbox row of the change: `consultation.matched` for the
 * first vet, `consultation.transferred` for a later one, and `consultation.{ended,
 * cancelled, expired}` (see PHANTOM_REASONS). A repeated write of the same change writes neither again.
 */
/**
 * Requests the owner never had (refused by the per-app cap, lost a race with their own other
 * request, or not recorded in time): their `consultation.queued` is withdrawn while nobody has
 * tried to deliver it, and then no `consultation.cancelled` follows. Once a partner may have
 * seen the queued event, the cancelled one closes it.
 */
const PHANTOM_REASONS = "('duplicate', 'not_recorded', 'app_queue_full')";

function transitionText(cte = ""): string {
  const guard = `(status not in ('ended', 'cancelled', 'expired') and ($4::boolean or updated_at <= $3::timestamptz))`;
  const newVet = `($2::text = 'active' and $6::integer is not null and (pre.status <> 'active' or pre.vet_id is distinct from $6::integer))`;
  return `with ${cte}
    pre as (select id, app_id, status, vet_id, accepted_at from consultations where id = $1::uuid and ${guard}),
    spell_close as (
      update consultation_vets s set left_at = $3::timestamptz from pre
      where s.consultation_id = pre.id and s.left_at is null
        and ($2::text in ('queued', 'ended', 'cancelled', 'expired') or ${newVet})),
    spell_open as (
      insert into consultation_vets (consultation_id, vet_id, joined_at)
      select pre.id, $6::integer, $3::timestamptz from pre where ${newVet}
      on conflict do nothing),
    unhook as (
      delete from webhook_outbox w using pre
      where $2::text = 'cancelled' and $10::text in ${PHANTOM_REASONS}
        and w.consultation_id = pre.id and w.type = 'consultation.queued' and w.status = 'pending'
        and w.attempts = 0 and (w.locked_until is null or w.locked_until < $3::timestamptz)
      returning w.id),
    hook as (
      ${outboxInsert(
        "pre",
        "case when $2::text <> 'active' then 'consultation.' || $2::text when s.accepted_at is null then 'consultation.matched' else 'consultation.transferred' end",
        "$3::timestamptz",
        `$2::text in ('ended', 'expired') or ($2::text = 'cancelled' and not exists (select 1 from unhook)) or ($2::text = 'active' and $6::integer is not null and (s.status <> 'active' or s.vet_id is distinct from $6::integer))`,
      )}),
    ev as (
      insert into consultation_events (consultation_id, from_status, to_status, detail, at)
      select id, status, $2::text, $5::jsonb, $3::timestamptz from consultations where id = $1::uuid)
    update consultations set
      status = case when ${guard} then $2::text else status end,
      ended_at = case when ${guard} and $4::boolean then $3::timestamptz else ended_at end,
      updated_at = case when ${guard} then $3::timestamptz else updated_at end,
      accepted_at = case when $2::text = 'active' then coalesce(accepted_at, $3::timestamptz) else accepted_at end,
      vet_id = coalesce($6::integer, vet_id),
      channel_sid = coalesce($7::text, channel_sid),
      room_sid = coalesce($8::text, room_sid),
      ended_by = coalesce($9::text, ended_by),
      end_reason = coalesce($10::text, end_reason)
    where id = $1::uuid`;
}

/** The newest unresolved offer of a pair (ids grow with time). */
const openOffer = (consultation: string, vet: string) =>
  `(select id from offers where consultation_id = ${consultation} and vet_id = ${vet} and outcome is null
    order by id desc limit 1)`;

export const TRANSITION = statement("transition", transitionText());

/** A transition that also resolves the vet's offer: $11 outcome, $12 vet. */
export const TRANSITION_RESOLVING_OFFER = statement(
  "transition_resolving_offer",
  transitionText(`resolved as (
      update offers set outcome = $11::text, resolved_at = $3::timestamptz
      where id = ${openOffer("$1::uuid", "$12::integer")}),`),
);

/**
 * A transition that resolves one known offer: $11 outcome, $12 vet, $13 offered at,
 * $14 expires at. The offer's row is inserted already resolved when its `offerMade` write
 * has not landed yet (that write then leaves it alone), so the order of the two does not matter.
 */
export const TRANSITION_UPSERTING_OFFER = statement(
  "transition_upserting_offer",
  transitionText(`resolved as (
      insert into offers (consultation_id, vet_id, offered_at, expires_at, outcome, resolved_at)
      select id, $12::integer, $13::timestamptz, $14::timestamptz, $11::text, $3::timestamptz
      from consultations where id = $1::uuid
      on conflict (consultation_id, vet_id, offered_at) do update
        set outcome = excluded.outcome, resolved_at = excluded.resolved_at
        where offers.outcome is null),`),
);

/**
 * The `offered` transition with its offer row: $11 vet, $12 expires at. A row of the same
 * offer written first (resolved by an accept that landed before this) is kept as it is.
 */
export const TRANSITION_MAKING_OFFER = statement(
  "transition_making_offer",
  transitionText(`offer as (
      insert into offers (consultation_id, vet_id, offered_at, expires_at)
      values ($1::uuid, $11::integer, $3::timestamptz, $12::timestamptz)
      on conflict (consultation_id, vet_id, offered_at) do nothing),`),
);

/** $1 consultation, $2 vet, $3 outcome, $4 at. */
export const RESOLVE_OFFER = statement(
  "resolve_offer",
  `update offers set outcome = $3::text, resolved_at = $4::timestamptz where id = ${openOffer("$1::uuid", "$2::integer")}`,
);

/**
 * One known offer's outcome without a transition: $1 consultation, $2 vet, $3 outcome, $4 at,
 * $5 offered at, $6 expires at. Inserted already resolved when its `offerMade` has not landed.
 */
export const UPSERT_RESOLVED_OFFER = statement(
  "upsert_resolved_offer",
  `insert into offers (consultation_id, vet_id, offered_at, expires_at, outcome, resolved_at)
   select id, $2::integer, $5::timestamptz, $6::timestamptz, $3::text, $4::timestamptz
   from consultations where id = $1::uuid
   on conflict (consultation_id, vet_id, offered_at) do update
     set outcome = excluded.outcome, resolved_at = excluded.resolved_at
     where offers.outcome is null`,
);

/**
 * A waiting consultation's care changes (PROTOCOL §4: treatment that found no licensed vet
 * becomes advice): $1 consultation, $2 care, $3 at, $4 event detail. Only while it waits
 * (queued or offered); the event and the `consultation.care_changed` webhook row land with
 * a real change only. Answers a row when it waits with that care now (changed now or by an
 * earlier attempt), none when it no longer waits.
 */
export const CHANGE_CARE = statement(
  "change_care",
  `with changed as (
     update consultations set care = $2::text
     where id = $1::uuid and status in ('queued', 'offered') and care <> $2::text
     returning id, app_id, status),
   hook as (
     ${outboxInsert("changed", "'consultation.care_changed'", "$3::timestamptz")}),
   ev as (
     insert into consultation_events (consultation_id, from_status, to_status, detail, at)
     select id, status, status, $4::jsonb, $3::timestamptz from changed)
   select id from consultations
   where id = $1::uuid and status in ('queued', 'offered') and (care = $2::text or exists (select 1 from changed))`,
);

export const SET_SIDS = statement(
  "set_sids",
  `update consultations set channel_sid = coalesce($2::text, channel_sid), room_sid = coalesce($3::text, room_sid)
   where id = $1::uuid`,
);

export const NOTE = statement(
  "note",
  `insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select id, status, status, $2::jsonb, $3::timestamptz from consultations where id = $1::uuid`,
);

/**
 * The vet's feedback (a later submission replaces it) and its `feedback.submitted` webhook
 * row: $1 consultation, $2 vet, $3 recommendation, $4 reason, $5 at, $6 outcome (or null).
 */
export const SAVE_FEEDBACK = statement(
  "save_feedback",
  `with saved as (
     insert into feedback (consultation_id, vet_id, recommendation, reason, outcome, created_at, updated_at)
     values ($1::uuid, $2::integer, $3::text, $4::text, $6::text, $5::timestamptz, $5::timestamptz)
     on conflict (consultation_id) do update
       set recommendation = excluded.recommendation, reason = excluded.reason, outcome = excluded.outcome,
         vet_id = excluded.vet_id, updated_at = excluded.updated_at
     returning consultation_id),
   c as (select c.id, c.app_id from consultations c join saved on saved.consultation_id = c.id)
   ${outboxInsert("c", "'feedback.submitted'", "$5::timestamptz")}`,
);

/**
 * A referral's offer (PROTOCOL §10): its row and an event, the status unchanged: $1 consultation,
 * $2 vet, $3 offered at, $4 expires at, $5 event detail.
 */
export const REFERRAL_OFFERED = statement(
  "referral_offered",
  `with offer as (
     insert into offers (consultation_id, vet_id, offered_at, expires_at)
     values ($1::uuid, $2::integer, $3::timestamptz, $4::timestamptz)
     on conflict (consultation_id, vet_id, offered_at) do nothing)
   insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select id, status, status, $5::jsonb, $3::timestamptz from consultations where id = $1::uuid`,
);

/**
 * A referral accepted (PROTOCOL §10), while the consultation is active: $1 consultation,
 * $2 the new vet, $3 at, $4 the first vet, $5 cold (the first vet's spell closes), $6 event
 * detail, $7 offered at, $8 expires at. The new vet's spell opens, its offer resolves
 * `accepted`, and `consultation.transferred` goes to the outbox, once.
 */
export const REFERRAL_ACCEPTED = statement(
  "referral_accepted",
  `with pre as (select id, app_id, vet_id from consultations where id = $1::uuid and status = 'active'),
   spell_close as (
     update consultation_vets s set left_at = $3::timestamptz from pre
     where s.consultation_id = pre.id and s.left_at is null and $5::boolean and s.vet_id = $4::integer),
   spell_open as (
     insert into consultation_vets (consultation_id, vet_id, joined_at)
     select pre.id, $2::integer, $3::timestamptz from pre where pre.vet_id is distinct from $2::integer
     on conflict do nothing),
   offer as (
     insert into offers (consultation_id, vet_id, offered_at, expires_at, outcome, resolved_at)
     select pre.id, $2::integer, $7::timestamptz, $8::timestamptz, 'accepted', $3::timestamptz from pre
     on conflict (consultation_id, vet_id, offered_at) do update
       set outcome = excluded.outcome, resolved_at = excluded.resolved_at
       where offers.outcome is null),
   hook as (
     ${outboxInsert("pre", "'consultation.transferred'", "$3::timestamptz", "s.vet_id is distinct from $2::integer")}),
   ev as (
     insert into consultation_events (consultation_id, from_status, to_status, detail, at)
     select pre.id, 'active', 'active', $6::jsonb, $3::timestamptz from pre where pre.vet_id is distinct from $2::integer)
   update consultations c set vet_id = $2::integer from pre where c.id = pre.id`,
);

/** A vet lets go of a consultation it shared: $1 consultation, $2 vet, $3 at, $4 event detail. */
export const VET_LEFT = statement(
  "vet_left",
  `with closed as (
     update consultation_vets set left_at = $3::timestamptz
     where consultation_id = $1::uuid and vet_id = $2::integer and left_at is null
     returning consultation_id)
   insert into consultation_events (consultation_id, from_status, to_status, detail, at)
   select c.id, c.status, c.status, $4::jsonb, $3::timestamptz from consultations c
   where c.id = $1::uuid and exists (select 1 from closed)`,
);
