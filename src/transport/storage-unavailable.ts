/**
 * Whether an error means "the database or Redis is away or too slow": the transports answer
 * it 503 (REST with `Retry-After`, socket acks, refused handshakes `unavailable`), never 500.
 */
import { isDatabaseUnavailable } from "../db/errors.js";
import { StorageUnavailableError } from "../domain/errors.js";
import { isRedisUnavailable } from "../lib/redis-commands.js";

export function isStorageUnavailable(err: unknown): boolean {
  return err instanceof StorageUnavailableError || isDatabaseUnavailable(err) || isRedisUnavailable(err);
}
