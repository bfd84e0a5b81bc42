/**
 * The vet's session: the socket token of `POST /vet/v1/login`, kept in sessionStorage so a
 * reload (or the tab's own restore) resumes without a new login, renewed through
 * `POST /vet/v1/token` before it expires. The password is never stored.
 */
import { api } from "../shared/api.js";

export interface VetInfo {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  profile_image: string | null;
  identity: string;
  /** Skills (PROTOCOL §4); absent in a session stored before they existed. */
  species?: string[];
  languages?: string[];
  /** null: the gateway's `VET_MAX_CONSULTS`. */
  max_chats?: number | null;
  /** ISO 3166 codes where the vet may treat (PROTOCOL §4). */
  licenses?: string[];
}

export interface Session {
  token: string;
  expires_at: string;
  vet: VetInfo;
}

const KEY = "vet-console.session";
/** A token with less life than this is renewed rather than used. */
const MIN_LIFE_MS = 60_000;

export function loadSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Session | null;
    return s && Date.parse(s.expires_at) > Date.now() + 5_000 ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export async function login(email: string, password: string): Promise<Session> {
  const s = await api<Session>("POST", "/vet/v1/login", { body: { email, password } });
  saveSession(s);
  return s;
}

/** The SDK's token getter: the stored token while it has life left, else a renewed one. */
export async function currentToken(): Promise<{ token: string; expires_at: string }> {
  const s = loadSession();
  if (!s) throw new Error("signed out");
  if (Date.parse(s.expires_at) - Date.now() > MIN_LIFE_MS) return s;
  const fresh = await api<{ token: string; expires_at: string }>("POST", "/vet/v1/token", { bearer: s.token });
  saveSession({ ...s, ...fresh });
  return fresh;
}
