/**
 * Errors the domain raises in its own words. Transports decide what they look like on the
 * wire (REST maps {@link NoVetAvailableError} and {@link StorageUnavailableError} to 503 with
 * `Retry-After`; sockets ack 503).
 */

/** Talk-to-vet found no vet free to take the consultation now; the caller may retry later. */
export class NoVetAvailableError extends Error {
  /** Seconds after which a retry is worth trying. */
  readonly retryAfterS: number;

  constructor(retryAfterS: number) {
    super("No vet is available right now, please retry.");
    this.name = "NoVetAvailableError";
    this.retryAfterS = retryAfterS;
  }
}

/**
 * The store refused to queue a request: its app already has `MAX_QUEUED_PER_APP`
 * consultations waiting (queued or offered). Intake answers it with 429.
 */
export class AppQueueFullError extends Error {
  readonly appId: number;

  constructor(appId: number) {
    super("Too many consultations are waiting for this app.");
    this.name = "AppQueueFullError";
    this.appId = appId;
  }
}

/**
 * The database (the system of record) refused or timed out a write the caller's answer
 * depends on (PROTOCOL §6, record first). The live state was left as before the call.
 */
export class StorageUnavailableError extends Error {
  /** Seconds after which a retry is worth trying. */
  readonly retryAfterS: number;

  constructor(retryAfterS: number, cause?: unknown) {
    super("Service Unavailable", { cause });
    this.name = "StorageUnavailableError";
    this.retryAfterS = retryAfterS;
  }
}
