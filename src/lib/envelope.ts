import type { Envelope } from "../protocol/envelope.js";

export type { Envelope };

/** A successful envelope. */
export function ok<T>(data: T, message: string | string[] = "OK", status = 200): Envelope<T> {
  return { success: true, status_code: status, message: Array.isArray(message) ? message : [message], data };
}

/** An error envelope; errors always carry `data: []`. */
export function fail(status: number, message: string | string[]): Envelope<never[]> {
  return { success: false, status_code: status, message: Array.isArray(message) ? message : [message], data: [] };
}

/**
 * A failure the transports turn into an error envelope. Domain and repository code throws
 * it; REST maps it to the HTTP status and sockets to the acknowledgement.
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

export const notFound = (what: string) => new AppError(404, what);
export const conflict = (what: string) => new AppError(409, what);
export const unprocessable = (messages: string | string[]) => new AppError(422, messages);
