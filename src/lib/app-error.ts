/**
 * A failure the transports turn into an error envelope (`fail()` of `protocol/envelope.ts`).
 * Domain and repository code throws it; REST maps it to the HTTP status and sockets to the
 * acknowledgement.
 */
export class AppError extends Error {
  readonly status: number;
  readonly messages: string[];
  /** Extra response headers, e.g. `Retry-After` on 503. */
  readonly headers: Record<string, string>;

  constructor(status: number, messages: string | string[], headers: Record<string, string> = {}) {
    const list = Array.isArray(messages) ? messages : [messages];
    super(list[0] ?? "Error");
    this.status = status;
    this.messages = list;
    this.headers = headers;
  }
}

/** 404 with one message, e.g. `notFound("Vet not found")`. */
export const notFound = (what: string) => new AppError(404, what);
/** 409 with one message. */
export const conflict = (what: string) => new AppError(409, what);
/** 422 with one message per failed field (Laravel wording). */
export const unprocessable = (messages: string | string[]) => new AppError(422, messages);
