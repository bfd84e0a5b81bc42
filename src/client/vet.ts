import type { VetConsultationPayload } from "../protocol/events.js";
import { Connection } from "./connection.js";
import type { ClientOptions, VetClient, VetEvents } from "./types.js";

class VetConnection extends Connection<VetEvents> implements VetClient {
  setAvailability(status: "available" | "away"): Promise<{ status: string }> {
    return this.ask("presence:set", { status });
  }
  accept(consultationId: string): Promise<VetConsultationPayload> {
    return this.ask("consult:accept", { consultation_id: consultationId });
  }
  async decline(consultationId: string): Promise<void> {
    await this.ask("consult:decline", { consultation_id: consultationId });
  }
  async end(consultationId: string): Promise<void> {
    await this.ask("consult:end", { consultation_id: consultationId });
  }
  async sendFeedback(consultationId: string, recommendation: string, reason: string): Promise<void> {
    await this.ask("consult:feedback", { consultation_id: consultationId, recommendation, reason });
  }
  startCall(consultationId: string): Promise<{ room_sid: string; twilioToken: string }> {
    return this.ask("call:start", { consultation_id: consultationId });
  }
}

/** A vet console's connection to `/vet`; `getToken` typically wraps `POST /vet/v1/login`. */
export function createVetClient(opts: ClientOptions): VetClient {
  return new VetConnection("/vet", opts);
}
