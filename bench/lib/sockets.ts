/**
 * Socket.IO client helpers shared by the benches: every bench client connects over
 * WebSocket only, without reconnection, and asks with an acknowledgement timeout.
 */
import { io as connect, type Socket } from "socket.io-client";

/** The gateway's answer envelope, loosely typed for benches. */
export interface Envelope {
  success: boolean;
  status_code: number;
  message: string[];
  data: any;
}

/** Connects to `{url}{ns}` with `token`; rejects with the `connect_error`. */
export function openSocket(url: string, ns: "/user" | "/vet", token: string): Promise<Socket> {
  const socket = connect(url + ns, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err: Error) => reject(new Error(`${ns} connect failed: ${err.message}`)));
  });
}

/** Emits `event` with an acknowledgement; rejects when none arrives within `timeoutMs`. */
export function ask(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Envelope> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<Envelope>;
}
