/** JSON calls to the gateway's own REST endpoints (same origin), unwrapping the envelope. */

export interface Envelope<T> {
  success: boolean;
  status_code: number;
  message: string[];
  data: T;
}

/** A REST call that answered with an error envelope (or not JSON at all). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly messages: string[],
  ) {
    super(messages[0] ?? `HTTP ${status}`);
    this.name = "ApiError";
  }
}

/** Sends JSON, returns `data` of a success envelope, throws {@link ApiError} otherwise. */
export async function api<T>(method: string, path: string, opts: { body?: unknown; bearer?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? null : JSON.stringify(opts.body) });
  } catch {
    throw new ApiError(0, ["The gateway cannot be reached."]);
  }
  let env: Partial<Envelope<T>> | null = null;
  try {
    env = (await res.json()) as Partial<Envelope<T>>;
  } catch {
    /* not JSON: handled below */
  }
  if (!res.ok || !env || env.success !== true) {
    const messages = Array.isArray(env?.message) && env.message.length ? env.message : [`HTTP ${res.status}`];
    throw new ApiError(res.status, messages);
  }
  return env.data as T;
}

/** A readable one-line reason for any error thrown by {@link api} or the SDK. */
export function reason(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
