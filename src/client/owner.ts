import type { TokenPayload, UserClientEvents } from "../protocol/events.js";
import { Connection } from "./connection.js";
import type { ClientOptions, ConsultRequest, OwnerClient, OwnerEvents } from "./types.js";

class OwnerConnection extends Connection<UserClientEvents, OwnerEvents> implements OwnerClient {
  request(input: ConsultRequest): ReturnType<OwnerClient["request"]> {
    return this.ask("consult:request", input);
  }
  async cancel(consultationId: string): Promise<void> {
    await this.ask("consult:cancel", { consultation_id: consultationId });
  }
  async end(consultationId: string): Promise<void> {
    await this.ask("consult:end", { consultation_id: consultationId });
  }
  async callStatus(roomSid: string, status: Parameters<OwnerClient["callStatus"]>[1]): Promise<void> {
    await this.ask("call:status", { room_sid: roomSid, status });
  }
  sendChat(consultationId: string, text: string): ReturnType<OwnerClient["sendChat"]> {
    return this.ask("chat:send", { consultation_id: consultationId, text });
  }
  refreshTwilioToken(): Promise<TokenPayload> {
    return this.ask("token:refresh", {});
  }
}

/**
 * A pet owner's connection to `/user`; `getToken` asks the partner's own server, which
 * calls `POST /api/v2/{name}/socket-token`.
 */
export function createOwnerClient(opts: ClientOptions): OwnerClient {
  return new OwnerConnection("/user", opts);
}
