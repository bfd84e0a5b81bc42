/**
 * The event map of `src/protocol/events.ts` is the one source of the socket protocol: the
 * gateway's handlers and the client SDK must agree with it event by event. Type-only (run by
 * vitest's typecheck, see vitest.config.ts): an event, a payload or an acknowledgement that
 * drifts between the handlers, the SDK and the map fails `npm test`.
 */
import { describe, expectTypeOf, it } from "vitest";
import type { ConsultRequest, OwnerClient, OwnerEvents, VetClient, VetEvents } from "../../src/client/index.js";
import type {
  AckData,
  ClientEventTable,
  ClientPayload,
  EventPayload,
  ServerEventTable,
  ServerPayload,
  TokenPayload,
  UserClientEvents,
  UserServerEvents,
  VetClientEvents,
  VetServerEvents,
} from "../../src/protocol/events.js";
import type { EventHandlers, UserHandlers, VetHandlers } from "../../src/sockets/socket-gateway.js";

/** The acknowledgement `data` each handler resolves to, read off the handlers as written. */
type HandlerData<H> = { [E in keyof H]: H[E] extends (...args: never[]) => Promise<{ data: infer D }> ? D : never };
/** The acknowledgement `data` the map declares for each event (the map is `as const`: readonly). */
type MapAckData<C extends ClientEventTable> = { -readonly [E in keyof C]: AckData<C, E> };

/** Which event each SDK method sends. */
type VetCalls = {
  setAvailability: "presence:set";
  accept: "consult:accept";
  decline: "consult:decline";
  end: "consult:end";
  sendFeedback: "consult:feedback";
  startCall: "call:start";
  refreshTwilioToken: "token:refresh";
  sendChat: "chat:send";
  transfer: "consult:transfer";
  cancelTransfer: "consult:transfer_cancel";
  leave: "consult:leave";
};
type OwnerCalls = {
  request: "consult:request";
  cancel: "consult:cancel";
  end: "consult:end";
  callStatus: "call:status";
  refreshTwilioToken: "token:refresh";
  sendChat: "chat:send";
};

/** What an SDK method resolves to, per method. */
type SdkResults<Client, Calls> = {
  [M in keyof Calls]: M extends keyof Client
    ? Client[M] extends (...args: never[]) => Promise<infer R>
      ? R
      : never
    : never;
};
/** What the map says each method should resolve to: the ack's data, nothing when it is only `true`. */
type MapResults<C extends ClientEventTable, Calls extends Record<string, keyof C>> = {
  [M in keyof Calls]: AckData<C, Calls[M]> extends true ? void : AckData<C, Calls[M]>;
};

/** Server→client payloads as the SDK's `on()` hands them over, and as the map declares them. */
type SdkEvents<S> = { [E in keyof S]: EventPayload<S, E> };
type MapEvents<S extends ServerEventTable> = { [E in keyof S]: ServerPayload<S, E> };

type VetSends<E extends keyof VetClientEvents> = ClientPayload<VetClientEvents, E>;
type OwnerSends<E extends keyof UserClientEvents> = ClientPayload<UserClientEvents, E>;
type Args<F> = F extends (...args: infer A) => unknown ? A : never;

describe("server handlers against the map", () => {
  it("handle every client→server event, and no other", () => {
    expectTypeOf<keyof VetHandlers>().toEqualTypeOf<keyof VetClientEvents>();
    expectTypeOf<keyof UserHandlers>().toEqualTypeOf<keyof UserClientEvents>();
  });

  it("take the parsed payload", () => {
    expectTypeOf<VetHandlers>().toExtend<EventHandlers<VetClientEvents>>();
    expectTypeOf<UserHandlers>().toExtend<EventHandlers<UserClientEvents>>();
  });

  it("answer exactly the map's acknowledgement data", () => {
    expectTypeOf<HandlerData<VetHandlers>>().toEqualTypeOf<MapAckData<VetClientEvents>>();
    expectTypeOf<HandlerData<UserHandlers>>().toEqualTypeOf<MapAckData<UserClientEvents>>();
  });
});

describe("SDK against the map", () => {
  it("has a method for every client→server event", () => {
    expectTypeOf<VetCalls[keyof VetCalls]>().toEqualTypeOf<keyof VetClientEvents>();
    expectTypeOf<OwnerCalls[keyof OwnerCalls]>().toEqualTypeOf<keyof UserClientEvents>();
    expectTypeOf<Pick<VetClient, keyof VetCalls>>().toBeObject();
    expectTypeOf<Pick<OwnerClient, keyof OwnerCalls>>().toBeObject();
  });

  it("resolves to the acknowledgement data (nothing when the ack is only `true`)", () => {
    expectTypeOf<VetClient["accept"]>().returns.resolves.toEqualTypeOf<AckData<VetClientEvents, "consult:accept">>();
    expectTypeOf<SdkResults<VetClient, VetCalls>>().toEqualTypeOf<MapResults<VetClientEvents, VetCalls>>();
    expectTypeOf<SdkResults<OwnerClient, OwnerCalls>>().toEqualTypeOf<MapResults<UserClientEvents, OwnerCalls>>();
    expectTypeOf<TokenPayload>().toEqualTypeOf<AckData<VetClientEvents, "token:refresh">>();
    expectTypeOf<TokenPayload>().toEqualTypeOf<AckData<UserClientEvents, "token:refresh">>();
  });

  // The payload built from a method's arguments is exactly the map's payload input: a field
  // added to the map (even optional) or retyped fails here.
  it("takes the map's payload input as arguments", () => {
    type Presence = Args<VetClient["setAvailability"]>;
    expectTypeOf<{ status: Presence[0] }>().toEqualTypeOf<VetSends<"presence:set">>();
    type Accept = Args<VetClient["accept"]>;
    type Decline = Args<VetClient["decline"]>;
    type End = Args<VetClient["end"]>;
    type Call = Args<VetClient["startCall"]>;
    expectTypeOf<{ consultation_id: Accept[0] }>().toEqualTypeOf<VetSends<"consult:accept">>();
    expectTypeOf<{ consultation_id: Decline[0] }>().toEqualTypeOf<VetSends<"consult:decline">>();
    expectTypeOf<{ consultation_id: End[0] }>().toEqualTypeOf<VetSends<"consult:end">>();
    expectTypeOf<{ consultation_id: Call[0] }>().toEqualTypeOf<VetSends<"call:start">>();
    type Transfer = Args<VetClient["transfer"]>;
    type TransferOpts = NonNullable<Transfer[2]>;
    expectTypeOf<{
      consultation_id: Transfer[0];
      to: Transfer[1];
      note?: TransferOpts["note"];
      mode?: TransferOpts["mode"];
    }>().toEqualTypeOf<VetSends<"consult:transfer">>();
    expectTypeOf<{ consultation_id: Args<VetClient["cancelTransfer"]>[0] }>().toEqualTypeOf<
      VetSends<"consult:transfer_cancel">
    >();
    expectTypeOf<{ consultation_id: Args<VetClient["leave"]>[0] }>().toEqualTypeOf<VetSends<"consult:leave">>();
    type Feedback = Args<VetClient["sendFeedback"]>;
    expectTypeOf<{
      consultation_id: Feedback[0];
      recommendation: Feedback[1];
      reason: Feedback[2];
      outcome: Feedback[3];
    }>().toEqualTypeOf<VetSends<"consult:feedback">>();

    expectTypeOf<Args<OwnerClient["request"]>>().toEqualTypeOf<[OwnerSends<"consult:request">]>();
    expectTypeOf<ConsultRequest>().toEqualTypeOf<OwnerSends<"consult:request">>();
    type Cancel = Args<OwnerClient["cancel"]>;
    type OwnerEnd = Args<OwnerClient["end"]>;
    type Status = Args<OwnerClient["callStatus"]>;
    expectTypeOf<{ consultation_id: Cancel[0] }>().toEqualTypeOf<OwnerSends<"consult:cancel">>();
    expectTypeOf<{ consultation_id: OwnerEnd[0] }>().toEqualTypeOf<OwnerSends<"consult:end">>();
    expectTypeOf<{ room_sid: Status[0]; status: Status[1] }>().toEqualTypeOf<OwnerSends<"call:status">>();

    type VetChat = Args<VetClient["sendChat"]>;
    type OwnerChat = Args<OwnerClient["sendChat"]>;
    expectTypeOf<{ consultation_id: VetChat[0]; text: VetChat[1] }>().toEqualTypeOf<VetSends<"chat:send">>();
    expectTypeOf<{ consultation_id: OwnerChat[0]; text: OwnerChat[1] }>().toEqualTypeOf<OwnerSends<"chat:send">>();

    // `token:refresh` takes an empty object.
    expectTypeOf<Args<VetClient["refreshTwilioToken"]>>().toEqualTypeOf<[]>();
    expectTypeOf<Record<string, never>>().toExtend<VetSends<"token:refresh">>();
    expectTypeOf<Record<string, never>>().toExtend<OwnerSends<"token:refresh">>();
  });

  it("hands server events over with the map's payload output", () => {
    expectTypeOf<keyof VetEvents>().toEqualTypeOf<keyof VetServerEvents>();
    expectTypeOf<keyof OwnerEvents>().toEqualTypeOf<keyof UserServerEvents>();
    expectTypeOf<SdkEvents<VetEvents>>().toEqualTypeOf<MapEvents<VetServerEvents>>();
    expectTypeOf<SdkEvents<OwnerEvents>>().toEqualTypeOf<MapEvents<UserServerEvents>>();
  });
});
