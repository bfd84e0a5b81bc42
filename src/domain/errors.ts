/**
 * Errors the domain raises in its own words. Transports decide what they look like on the
 * wire (REST maps {@link NoVetAvailableError} to 503 with `Retry-After`).
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
