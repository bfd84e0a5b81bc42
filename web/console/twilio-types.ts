/**
 * The slice of the Twilio client SDKs (`@twilio/conversations` 3, `twilio-video` 2) that the
 * console uses, as plain interfaces. The real SDKs are checked against them where they are
 * loaded (twilio-sdk.ts), and so is the browser tests' fake (web/testing/fake-twilio-sdk.ts):
 * both sides of the seam are held to the same shapes by the compiler.
 */

/** A `Message` of a Conversation. */
export interface ChatMessage {
  readonly author: string | null;
  readonly body: string | null;
  readonly index: number;
}

/** A `Conversation` the vet participates in. */
export interface ChatConversation {
  readonly sid: string;
  getMessages(pageSize?: number): Promise<{ items: ChatMessage[] }>;
  /** Resolves to the new message's index. */
  sendMessage(body: string): Promise<number>;
  on(event: "messageAdded", listener: (message: ChatMessage) => void): unknown;
}

/** The Conversations `Client`, built from an access token. */
export interface ChatClient {
  on(event: "stateChanged", listener: (state: "initialized" | "failed") => void): unknown;
  /** The access token ends soon (or has ended): hand the client a fresh one with {@link updateToken}. */
  on(event: "tokenAboutToExpire" | "tokenExpired", listener: () => void): unknown;
  updateToken(token: string): Promise<unknown>;
  getConversationBySid(sid: string): Promise<ChatConversation>;
  shutdown(): Promise<void>;
}

/** An audio or video track that renders into a media element. */
export interface MediaTrack {
  readonly kind: "audio" | "video";
  attach(): HTMLMediaElement;
  detach(): HTMLMediaElement[];
}

/** A remote participant's track: media, or data (not shown). */
export type RemoteTrack = MediaTrack | { readonly kind: "data" };

export interface RemoteParticipant {
  readonly identity: string;
  readonly tracks: Map<string, { readonly track: RemoteTrack | null }>;
  on(event: "trackSubscribed" | "trackUnsubscribed", listener: (track: RemoteTrack) => void): unknown;
}

/** A connected Video `Room`. */
export interface VideoRoom {
  readonly name: string;
  readonly sid: string;
  readonly localParticipant: { readonly videoTracks: Map<string, { readonly track: MediaTrack }> };
  readonly participants: Map<string, RemoteParticipant>;
  on(event: "participantConnected", listener: (participant: RemoteParticipant) => void): unknown;
  /** Leaves the room; the SDK stops the camera and microphone tracks it opened. */
  disconnect(): unknown;
}

/** What twilio-sdk.ts exports as its default. */
export interface TwilioSdk {
  /** `new Client(token)` of `@twilio/conversations`. */
  chatClient(token: string): ChatClient;
  /** `connect(token, options)` of `twilio-video`: opens camera and microphone and joins the room `name`. */
  connectVideo(token: string, options: { name: string; audio: boolean; video: { width: number } }): Promise<VideoRoom>;
}
