/**
 * Live Twilio mode, loaded with `import()` only when `GET /vet/v1/config` says `live`, so
 * offline consoles never download the Twilio SDKs. Chat joins the consultation's
 * Conversation with `@twilio/conversations`; video joins the room with `twilio-video`.
 */
import { Client, type Conversation, type Message } from "@twilio/conversations";
import { connect, type Room, type RemoteTrack } from "twilio-video";
import { h } from "../shared/dom.js";

export interface LiveSession {
  close(): void;
}

/** Joins the Conversation `channelSid` as the token's identity and renders a message list and an input into `into`. */
export async function joinChat(token: string, channelSid: string, me: string, into: HTMLElement): Promise<LiveSession> {
  const list = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const input = h("input", { type: "text", id: `msg-${channelSid}`, placeholder: "Write a message", autocomplete: "off", maxlength: 1600 });
  const send = h("button", { class: "primary", type: "submit" }, "Send");
  const form = h("form", { class: "row chat-input" }, h("label", { for: input.id, class: "sr-only" }, "Message"), input, send);
  const box = h("section", { class: "chat stack", "aria-label": "Chat" }, h("h3", {}, "Chat"), list, form);
  into.append(box);
  const client = new Client(token);
  await new Promise<void>((resolve, reject) => {
    client.on("stateChanged", (s) => (s === "initialized" ? resolve() : s === "failed" ? reject(new Error("Twilio Conversations failed to start")) : undefined));
  });
  const conversation: Conversation = await client.getConversationBySid(channelSid);
  const show = (m: Message) => {
    const mine = m.author === me;
    list.append(h("li", { class: mine ? "mine" : "theirs" }, h("span", { class: "who small muted" }, mine ? "You" : (m.author ?? "")), h("span", {}, m.body ?? "")));
    list.scrollTop = list.scrollHeight;
  };
  for (const m of (await conversation.getMessages(50)).items) show(m);
  conversation.on("messageAdded", show);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    void conversation.sendMessage(text).catch(() => (input.value = text));
  });
  return { close: () => void client.shutdown().catch(() => undefined) };
}

/** Joins the Video room `roomSid` with camera and microphone, showing local and remote video in `into`. */
export async function joinVideo(token: string, roomSid: string, into: HTMLElement): Promise<LiveSession> {
  const local = h("div", { class: "video local", "aria-label": "Your camera" });
  const remote = h("div", { class: "video remote", "aria-label": "The owner's video" });
  into.append(h("section", { class: "videos", "aria-label": "Video call" }, remote, local));
  const room: Room = await connect(token, { name: roomSid, audio: true, video: { width: 640 } });
  for (const pub of room.localParticipant.videoTracks.values()) local.append(pub.track.attach());
  const attach = (t: RemoteTrack) => {
    if (t.kind === "video" || t.kind === "audio") remote.append(t.attach());
  };
  const watch = (p: Room["participants"] extends Map<string, infer P> ? P : never) => {
    for (const pub of p.tracks.values()) if (pub.track) attach(pub.track);
    p.on("trackSubscribed", attach);
  };
  room.participants.forEach(watch);
  room.on("participantConnected", watch);
  return { close: () => room.disconnect() };
}
