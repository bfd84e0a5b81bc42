// STUB: owned by the platform engineer; replaced with the real authenticator.
import type { AppRecord, AppRepository } from "../repositories/apps.js";

/**
 * Resolves the `{name}` of `/api/v2/{name}` and checks Basic credentials
 * (`base64("{app name or id}:{secret}")`) against that app.
 */
export interface AppAuthenticator {
  /** The app named `name`, or null. */
  findByName(name: string): Promise<AppRecord | null>;
  /** True when the header carries this app's own name-or-id and secret. */
  verify(app: AppRecord, authorization: string | undefined): Promise<boolean>;
}

export function createAppAuthenticator(_apps: AppRepository): AppAuthenticator {
  return {
    findByName: () => Promise.resolve(null),
    verify: () => Promise.resolve(false),
  };
}
