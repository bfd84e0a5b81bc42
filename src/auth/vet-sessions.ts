/**
 * Who may use a vet session (PROTOCOL §7 "Revocation", "Safe defaults"): the password login,
 * and the check every later use of its token repeats (handshake, renewal, `token:refresh`).
 */
import { hashSecret, verifySecret, type ScryptGate } from "../lib/passwords.js";
import type { VetRecord, VetRepository } from "../repositories/vets.js";
import type { VetPrincipal } from "./socket-tokens.js";

/**
 * True when `vet` may still use the token `p`: the vet exists, is active, was not revoked
 * since (same session version), and is not a demo vet while demo mode is off.
 */
export function vetSessionValid(vet: VetRecord | null, p: VetPrincipal, demoMode: boolean): vet is VetRecord {
  return (
    vet !== null &&
    vet.id === p.vetId &&
    vet.active &&
    vet.sessionVersion === p.sessionVersion &&
    (demoMode || !vet.demo)
  );
}

/** The outcome of a password login. */
export type VetLoginResult = { result: "ok"; vet: VetRecord } | { result: "wrong" } | { result: "disabled" };

/** Password logins of vets: scrypt under the node's shared cap, uniform timing for unknown emails. */
export class VetLogin {
  /** Verifying against a dummy hash when the email is unknown keeps login timing uniform. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly vets: Pick<VetRepository, "findCredentials">,
    private readonly scrypt: ScryptGate,
    private readonly demoMode: boolean,
  ) {}

  /**
   * `wrong` for an unknown email, a wrong password, or a demo vet while demo mode is off (the
   * same answer: nothing told to a guesser); `disabled` only after the password matched.
   */
  async login(email: string, password: string): Promise<VetLoginResult> {
    const found = await this.vets.findCredentials(email);
    const hash = found?.passwordHash ?? (await (this.dummyHash ??= hashSecret("timing-equaliser")));
    const matched = await this.scrypt.run(() => verifySecret(password, hash));
    if (!found || !matched || (found.vet.demo && !this.demoMode)) return { result: "wrong" };
    return found.vet.active ? { result: "ok", vet: found.vet } : { result: "disabled" };
  }
}
