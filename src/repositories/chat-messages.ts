/**
 * The stored chat of offline Twilio mode (PROTOCOL §10): the engine's {@link ChatLog}, and
 * the reads behind `GET /vet/v1/consultations/{id}/messages`. Fixed statements, prepared on
 * PostgreSQL; ids are `bigint` identities read as text (opaque to clients, growing in
 * storage order).
 */
import type { Database, Statement } from "../db/database.js";
import type { ChatAuthor, ChatLog, ChatMessageRecord } from "../domain/ports.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const COLUMNS =
  "id::text as id, consultation_id::text as consultation_id, author, vet_id, user_id, author_name, text, created_at";

const APPEND: Statement = {
  name: "chat_append",
  text: `insert into chat_messages (consultation_id, author, vet_id, user_id, author_name, text, created_at)
         values ($1::uuid, $2::text, $3::integer, $4::integer, $5::text, $6::text, $7::timestamptz)
         returning id::text as id`,
};
const LATEST: Statement = {
  name: "chat_latest",
  text: `select ${COLUMNS} from chat_messages where consultation_id = $1::uuid order by chat_messages.id desc limit $2::integer`,
};
const BEFORE: Statement = {
  name: "chat_before",
  text: `select ${COLUMNS} from chat_messages where consultation_id = $1::uuid and id < $2::bigint order by chat_messages.id desc limit $3::integer`,
};
// Every vet who held the consultation has a spell row, written with the transition that began it.
const HELD_BY: Statement = {
  name: "chat_held_by",
  text: `select (exists (select 1 from consultation_vets where consultation_id = $1::uuid and vet_id = $2::integer)
            or exists (select 1 from consultations where id = $1::uuid and vet_id = $2::integer)) as held`,
};

interface Row {
  id: string;
  consultation_id: string;
  author: string;
  vet_id: number | null;
  user_id: number | null;
  author_name: string;
  text: string;
  created_at: Date | string;
}

const toRecord = (r: Row): ChatMessageRecord => ({
  id: r.id,
  consultationId: r.consultation_id,
  author: r.author as ChatAuthor,
  vetId: r.vet_id,
  userId: r.user_id,
  authorName: r.author_name,
  text: r.text,
  createdAt: new Date(r.created_at).getTime(),
});

/** The PostgreSQL (or PGlite) {@link ChatLog}. */
export class ChatMessages implements ChatLog {
  private readonly database: Pick<Database, "query">;

  constructor(database: Pick<Database, "query">) {
    this.database = database;
  }

  async append(m: Omit<ChatMessageRecord, "id">): Promise<ChatMessageRecord> {
    const rows = await this.database.query<{ id: string }>(APPEND, [
      m.consultationId,
      m.author,
      m.vetId,
      m.userId,
      m.authorName,
      m.text,
      new Date(m.createdAt).toISOString(),
    ]);
    return { ...m, id: rows[0].id };
  }

  async page(consultationId: string, before: string | null, limit: number): Promise<ChatMessageRecord[]> {
    if (!UUID.test(consultationId)) return [];
    if (before !== null && !/^\d{1,18}$/.test(before)) return [];
    const rows =
      before === null
        ? await this.database.query<Row>(LATEST, [consultationId, limit])
        : await this.database.query<Row>(BEFORE, [consultationId, before, limit]);
    return rows.map(toRecord).reverse();
  }

  /** Whether the vet holds or held the consultation (a spell, or its current vet). */
  async heldBy(consultationId: string, vetId: number): Promise<boolean> {
    if (!UUID.test(consultationId)) return false;
    const rows = await this.database.query<{ held: boolean }>(HELD_BY, [consultationId, vetId]);
    return rows[0]?.held === true;
  }
}
