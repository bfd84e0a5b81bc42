/**
 * A fake of the Twilio client SDKs for browser tests, served in place of the console's
 * twilio-sdk chunk (test/browser/console-live.test.ts). It implements the same
 * {@link TwilioSdk} as the real adapter. What Twilio's servers would decide (is the token
 * valid, may this identity join this Conversation or room) it asks the test through
 * `window.fakeTwilioAuthorize`, which checks the token's signature and grants and the fake
 * Twilio REST's state. Owners are played through `window.fakeTwilio` (say, joinRoom), and
 * everything the console did is in `window.fakeTwilio.log`. Never bundled into a page.
 */
import type {
  ChatClient,
  ChatConversation,
  ChatMessage,
  MediaTrack,
  RemoteParticipant,
  TwilioSdk,
  VideoRoom,
} from "../console/twilio-types.js";

/** The test's answer: the token's identity, or an error message (Twilio refused). */
type Authorize = (req: {
  token: string;
  conversation?: string;
  room?: string;
}) => Promise<{ identity: string } | { error: string }>;

/** One thing the console did through the SDK. */
export type FakeTwilioEvent =
  | { op: "chat.init"; identity: string }
  | { op: "chat.join"; sid: string; identity: string }
  | { op: "chat.send"; sid: string; author: string; body: string }
  | { op: "chat.shutdown"; identity: string }
  | { op: "chat.token"; identity: string }
  | { op: "video.connect"; name: string; identity: string; video: boolean; audio: boolean }
  | { op: "video.disconnect"; name: string; identity: string };

export interface FakeTwilioControl {
  log: FakeTwilioEvent[];
  /** A message from another participant (the owner) in Conversation `sid`. */
  say(sid: string, author: string, body: string): void;
  /** Another participant (the owner) joins room `name` and publishes a video track. */
  joinRoom(name: string, identity: string): void;
  /** Every open Conversations client hears `tokenAboutToExpire`. */
  expireSoon(): void;
}

declare global {
  interface Window {
    fakeTwilioAuthorize: Authorize;
    fakeTwilio: FakeTwilioControl;
  }
}

type Listener = (...args: never[]) => void;
class Emitter {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }
}

const log: FakeTwilioEvent[] = [];
const authorize = async (req: Parameters<Authorize>[0]): Promise<string> => {
  const r = await window.fakeTwilioAuthorize(req);
  if ("error" in r) throw new Error(r.error);
  return r.identity;
};

/** Messages and open Conversation objects per SID (every client of the page sees the same). */
const conversations = new Map<string, { messages: ChatMessage[]; open: Set<FakeConversation> }>();
const conversation = (sid: string) => {
  let c = conversations.get(sid);
  if (!c) conversations.set(sid, (c = { messages: [], open: new Set() }));
  return c;
};
function post(sid: string, author: string, body: string): number {
  const c = conversation(sid);
  const m: ChatMessage = { author, body, index: c.messages.length };
  c.messages.push(m);
  // Twilio delivers messageAdded asynchronously, the sender's own included.
  setTimeout(() => {
    for (const conv of c.open) conv.emit("messageAdded", m);
  }, 0);
  return m.index;
}

class FakeConversation extends Emitter implements ChatConversation {
  constructor(
    readonly sid: string,
    private readonly identity: string,
  ) {
    super();
  }
  getMessages(pageSize = 30): Promise<{ items: ChatMessage[] }> {
    return Promise.resolve({ items: conversation(this.sid).messages.slice(-pageSize) });
  }
  sendMessage(body: string): Promise<number> {
    log.push({ op: "chat.send", sid: this.sid, author: this.identity, body });
    return Promise.resolve(post(this.sid, this.identity, body));
  }
}

const chatClients = new Set<FakeChatClient>();

class FakeChatClient extends Emitter implements ChatClient {
  private identity: Promise<string>;
  private readonly joined = new Set<FakeConversation>();
  constructor(private token: string) {
    super();
    chatClients.add(this);
    this.identity = authorize({ token });
    this.identity.then(
      (identity) => {
        log.push({ op: "chat.init", identity });
        this.emit("stateChanged", "initialized");
      },
      () => this.emit("stateChanged", "failed"),
    );
  }
  async getConversationBySid(sid: string): Promise<ChatConversation> {
    const identity = await authorize({ token: this.token, conversation: sid });
    log.push({ op: "chat.join", sid, identity });
    const c = new FakeConversation(sid, identity);
    conversation(sid).open.add(c);
    this.joined.add(c);
    return c;
  }
  async updateToken(token: string): Promise<this> {
    // Twilio refuses a token of another identity for a running client.
    const identity = await authorize({ token });
    if (identity !== (await this.identity)) throw new Error("updateToken: another identity");
    this.token = token;
    log.push({ op: "chat.token", identity });
    return this;
  }
  async shutdown(): Promise<void> {
    chatClients.delete(this);
    for (const c of this.joined) conversation(c.sid).open.delete(c);
    log.push({ op: "chat.shutdown", identity: await this.identity });
  }
}

/** A video track drawn on a canvas (a moving bar), as a camera would deliver frames. */
class CanvasTrack implements MediaTrack {
  readonly kind = "video";
  private readonly elements = new Set<HTMLMediaElement>();
  readonly mediaStreamTrack: MediaStreamTrack;
  constructor(colour: string) {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const g = canvas.getContext("2d")!;
    let x = 0;
    const draw = () => {
      g.fillStyle = colour;
      g.fillRect(0, 0, 320, 240);
      g.fillStyle = "#ffffff";
      g.fillRect((x = (x + 8) % 320), 100, 40, 40);
    };
    draw();
    setInterval(draw, 100);
    this.mediaStreamTrack = canvas.captureStream(10).getVideoTracks()[0];
  }
  attach(): HTMLMediaElement {
    const v = document.createElement("video");
    v.autoplay = v.muted = v.playsInline = true;
    v.srcObject = new MediaStream([this.mediaStreamTrack]);
    this.elements.add(v);
    return v;
  }
  detach(): HTMLMediaElement[] {
    const all = [...this.elements];
    for (const v of all) v.srcObject = null;
    this.elements.clear();
    return all;
  }
}

class FakeRemoteParticipant extends Emitter implements RemoteParticipant {
  readonly tracks = new Map<string, { track: MediaTrack | null }>();
  constructor(readonly identity: string) {
    super();
  }
}

class FakeRoom extends Emitter implements VideoRoom {
  readonly sid: string;
  readonly localParticipant: { videoTracks: Map<string, { track: CanvasTrack }> };
  readonly participants = new Map<string, FakeRemoteParticipant>();
  constructor(
    readonly name: string,
    private readonly identity: string,
  ) {
    super();
    this.sid = name;
    this.localParticipant = { videoTracks: new Map([["MT-local", { track: new CanvasTrack("#2f6f6a") }]]) };
  }
  disconnect(): this {
    if (!rooms.delete(this)) return this;
    for (const pub of this.localParticipant.videoTracks.values()) pub.track.mediaStreamTrack.stop();
    log.push({ op: "video.disconnect", name: this.name, identity: this.identity });
    return this;
  }
}
const rooms = new Set<FakeRoom>();

const sdk: TwilioSdk = {
  chatClient: (token) => new FakeChatClient(token),
  async connectVideo(token, options) {
    const identity = await authorize({ token, room: options.name });
    log.push({
      op: "video.connect",
      name: options.name,
      identity,
      video: Boolean(options.video),
      audio: options.audio,
    });
    const room = new FakeRoom(options.name, identity);
    rooms.add(room);
    return room;
  },
};

window.fakeTwilio = {
  log,
  say: (sid, author, body) => void post(sid, author, body),
  expireSoon() {
    for (const c of chatClients) c.emit("tokenAboutToExpire");
  },
  joinRoom(name, identity) {
    for (const room of rooms) {
      if (room.name !== name) continue;
      const p = new FakeRemoteParticipant(identity);
      const pub: { track: MediaTrack | null } = { track: null };
      p.tracks.set("MT-remote", pub);
      room.participants.set(identity, p);
      room.emit("participantConnected", p);
      // As in Twilio, the track is subscribed a moment after the participant connects.
      setTimeout(() => {
        pub.track = new CanvasTrack("#7a4b1f");
        p.emit("trackSubscribed", pub.track);
      }, 50);
    }
  },
};

export default sdk;
