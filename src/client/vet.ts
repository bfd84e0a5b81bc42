import type { TokenPayload, VetClientEvents } from "../protocol/events.js";
import { Connection } from "./connection.js";
import type { ClientOptions, VetClient, VetEvents } from "./types.js";

class VetConnection extends Connection<VetClientEvents, VetEvents> implements VetClient {
  setAvailability(status: Parameters<VetClient["setAvailability"]>[0]): ReturnType<VetClient["setAvailability"]> {
    return this.ask("presence:set", { status });
  }
  accept(consultationId: string): ReturnType<VetClient["accept"]> {
    return this.ask("consult:accept", { consultation_id: consultationId });
  }
  async decline(consultationId: string): Promise<void> {
    await this.ask("consult:decline", { consultation_id: consultationId });
  }
  async end(consultationId: string): Promise<void> {
    await this.ask("consult:end", { consultation_id: consultationId });
  }
  async sendFeedback(consultationId: string, recommendation: string, reason: string, outcome: string): Promise<void> {
    await this.ask("consult:feedback", { consultation_id: consultationId, recommendation, reason, outcome });
  }
  startCall(consultationId: string): ReturnType<VetClient["startCall"]> {
    return this.ask("call:start", { consultation_id: consultationId });
  }
  sendChat(consultationId: string, text: string): ReturnType<VetClient["sendChat"]> {
    return this.ask("chat:send", { consultation_id: consultationId, text });
  }
  transfer(
    consultationId: string,
    to: Parameters<VetClient["transfer"]>[1],
    opts: Parameters<VetClient["transfer"]>[2] = {},
  ): ReturnType<VetClient["transfer"]> {
    return this.ask("consult:transfer", {
      consultation_id: consultationId,
      to,
      ...(opts.note !== undefined ? { note: opts.note } : {}),
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
    });
  }
  async cancelTransfer(consultationId: string): Promise<void> {
    await this.ask("consult:transfer_cancel", { consultation_id: consultationId });
  }
  async leave(consultationId: string): Promise<void> {
    await this.ask("consult:leave", { consultation_id: consultationId });
  }
  refreshTwilioToken(): Promise<TokenPayload> {
    return this.ask("token:refresh", {});
  }
}

/** A vet console's connection to `/vet`; `getToken` typically wraps `POST /vet/v1/login`. */
export function createVetClient(opts: ClientOptions): VetClient {
  return new VetConnection("/vet", opts);
}
