/** Why a gateway call failed. */
export type GatewayErrorKind = "rejected" | "timeout" | "disconnected";

/**
 * A failed acknowledged call. `rejected`: the gateway answered with an error envelope
 * (`statusCode` and `messages` are its `status_code` and `message`); `timeout`: no answer
 * within `ackTimeoutMs`; `disconnected`: the socket was (or went) offline. `statusCode` is 0
 * unless `kind` is `rejected`.
 */
export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly statusCode: number;
  readonly messages: string[];

  constructor(kind: GatewayErrorKind, statusCode: number, messages: string[]) {
    super(messages[0] ?? kind);
    this.name = "GatewayError";
    this.kind = kind;
    this.statusCode = statusCode;
    this.messages = messages;
  }
}
